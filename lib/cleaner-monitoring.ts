import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The worker's metrics (lambda/aws/telemetry.ts): namespace and Powertools service name. */
export const METRICS_NAMESPACE = 'regsweep';
export const METRICS_SERVICE = 'regsweep';
/** How often the alarms look, and the dashboard's period for counts. */
const ALARM_PERIOD = Duration.minutes(5);
const COUNT_PERIOD = Duration.hours(1);

/** What {@link CleanerMonitoring} watches. */
export interface CleanerMonitoringProps {
  /** The functions, by the label used in alarm descriptions and on the dashboard. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** `registry.example.com[:port]`: the worker's `registry` metric dimension. */
  readonly registryHost: string;
  /** Selects the worker's `mode` metric dimension (`dry-run` or `sweep`). */
  readonly dryRun: boolean;
  /** Whether the webhook records into a ledger: the dashboard then charts its events. @default false */
  readonly ledger?: boolean;
  /** @default no alarm actions */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * Alarms on dead-letter queue depth and on each function's errors, and one dashboard: removals
 * over time, failures, queue depth and age, the dead-letter queue, durations, and (with a ledger)
 * the notification events the webhook recorded and lost.
 */
export class CleanerMonitoring extends Construct {
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  /** One per function, by label. */
  public readonly errorAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  public readonly dashboard: cloudwatch.Dashboard;

  public constructor(scope: Construct, id: string, props: CleanerMonitoringProps) {
    super(scope, id);
    const notify = (alarm: cloudwatch.Alarm): cloudwatch.Alarm => {
      if (props.alarmTopic) {
        alarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
        alarm.addOkAction(new actions.SnsAction(props.alarmTopic));
      }
      return alarm;
    };

    this.deadLetterAlarm = notify(
      new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
        alarmDescription:
          'regsweep: cleanups failed on every retry and wait in the dead-letter queue (see the worker logs)',
        metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: ALARM_PERIOD,
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    const errorAlarms: Record<string, cloudwatch.Alarm> = {};
    for (const [label, fn] of Object.entries(props.functions)) {
      errorAlarms[label] = notify(
        new cloudwatch.Alarm(this, `${capitalize(label)}ErrorsAlarm`, {
          alarmDescription: `regsweep: the ${label} function failed (see its logs)`,
          metric: fn.metricErrors({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM }),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    this.errorAlarms = errorAlarms;
    this.dashboard = this.buildDashboard(props);
  }

  private buildDashboard(props: CleanerMonitoringProps): cloudwatch.Dashboard {
    const runMetric = (metricName: string, label: string, statistic: string = cloudwatch.Stats.SUM) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        // Exactly the dimension set the worker emits: Powertools' `service`, then registry and mode.
        dimensionsMap: {
          service: METRICS_SERVICE,
          registry: props.registryHost,
          mode: props.dryRun ? 'dry-run' : 'sweep',
        },
        statistic,
        period: COUNT_PERIOD,
        label,
      });
    const functions = Object.entries(props.functions);
    const width = 12;
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(7),
    });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        // A dry run removes nothing, so only `kept` moves: its plan is in the worker's logs.
        title: `Tag removals (${props.registryHost}${props.dryRun ? ', dry run: none; plans in the worker logs' : ''})`,
        left: [runMetric('TagsDeleted', 'deleted'), runMetric('TagsUntagged', 'untagged')],
        right: [runMetric('TagsKept', 'kept')],
        stacked: false,
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'Failures',
        left: [
          runMetric('RemovalsFailed', 'removals failed'),
          runMetric('TagsSkippedChanged', 'skipped: tag moved'),
        ],
        right: functions.map(([label, fn]) =>
          fn.metricErrors({
            period: COUNT_PERIOD,
            statistic: cloudwatch.Stats.SUM,
            label: `${label} errors`,
          }),
        ),
        width,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Queue depth and age',
        left: [
          props.queue.metricApproximateNumberOfMessagesVisible({ label: 'waiting' }),
          props.queue.metricApproximateNumberOfMessagesNotVisible({ label: 'in progress' }),
        ],
        right: [props.queue.metricApproximateAgeOfOldestMessage({ label: 'oldest message age (s)' })],
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queue',
        left: [
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            label: 'messages',
            statistic: cloudwatch.Stats.MAXIMUM,
          }),
        ],
        leftAnnotations: [{ value: 1, label: 'alarm', color: cloudwatch.Color.RED }],
        width,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Function durations (p50, p99)',
        left: functions.flatMap(([label, fn]) => [
          fn.metricDuration({ statistic: cloudwatch.Stats.p(50), label: `${label} p50` }),
          fn.metricDuration({ statistic: cloudwatch.Stats.p(99), label: `${label} p99` }),
        ]),
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'Cleanup run duration per repository',
        left: [
          runMetric('RunDuration', 'p50', cloudwatch.Stats.p(50)),
          runMetric('RunDuration', 'max', cloudwatch.Stats.MAXIMUM),
        ],
        width,
      }),
    );
    if (props.ledger) {
      // The webhook's metrics carry no mode: recording is the same in a dry run.
      const ledgerMetric = (metricName: string, label: string) =>
        new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName,
          dimensionsMap: { service: METRICS_SERVICE, registry: props.registryHost },
          statistic: cloudwatch.Stats.SUM,
          period: COUNT_PERIOD,
          label,
        });
      dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Ledger: notification events (lost: the ledger failed or took longer than 1 s)',
          left: [ledgerMetric('LedgerEventsRecorded', 'recorded')],
          right: [ledgerMetric('LedgerEventsLost', 'lost')],
          width: 2 * width,
        }),
      );
    }
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: [this.deadLetterAlarm, ...Object.values(this.errorAlarms)],
        width: 2 * width,
      }),
    );
    return dashboard;
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
