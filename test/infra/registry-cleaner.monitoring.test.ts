import { Match, Template } from 'aws-cdk-lib/assertions';
import YAML from 'yaml';
import { RegsweepStack } from '../../lib/regsweep-stack';
import { dashboardOf, dimensionsOf, joined } from './helpers/template-text';
import { EXAMPLE_POLICY, EXAMPLE_REGISTRY, TestApp, logicalIdOf } from './helpers/synth';

describe('Construct: CleanerMonitoring', () => {
  const testApp = new TestApp({ bundle: false });
  let withEmail: Template;
  let quiet: Template;
  let noLedger: Template;
  const functionId = (template: Template, name: string) =>
    logicalIdOf(template, 'AWS::Lambda::Function', `RegistryCleaner${name}Function`);

  beforeAll(() => {
    const emailStack = new RegsweepStack(testApp.app, 'WithEmail', {
      cleaner: { registryUrl: EXAMPLE_REGISTRY, policy: EXAMPLE_POLICY },
      alarmEmail: 'ops@example.com',
    });
    const quietStack = testApp.cleanerStack('Quiet', {
      registryUrl: 'http://10.0.0.5:5000',
      dryRun: true,
    }).stack;
    const noLedgerStack = testApp.cleanerStack('NoLedger', { ledger: false }).stack;
    withEmail = Template.fromStack(emailStack);
    noLedger = Template.fromStack(noLedgerStack);
    quiet = Template.fromStack(quietStack);
  });

  afterAll(() => testApp.dispose());

  it('alarms as soon as one message waits in the dead-letter queue', () => {
    // Prepare
    const deadLetter = logicalIdOf(quiet, 'AWS::SQS::Queue', 'RegistryCleanerDeadLetterQueue');

    // Assess
    quiet.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [deadLetter, 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
    });
  });

  it('alarms on the errors of each function', () => {
    // Assess
    quiet.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    for (const name of ['Webhook', 'Worker', 'Sweep']) {
      quiet.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId(quiet, name) } }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it('sends alarm and OK state changes to the alarm topic, and nowhere without one', () => {
    // Prepare
    const topic = { Ref: logicalIdOf(withEmail, 'AWS::SNS::Topic', 'AlarmTopic') };

    // Assess
    const alarms = (template: Template) => Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    for (const alarm of alarms(withEmail)) {
      expect(alarm.Properties).toMatchObject({ AlarmActions: [topic], OKActions: [topic] });
    }
    for (const alarm of alarms(quiet)) {
      expect(alarm.Properties.AlarmActions).toBeUndefined();
      expect(alarm.Properties.OKActions).toBeUndefined();
    }
  });

  it('subscribes the alarm email to a topic that refuses requests without TLS', () => {
    // Assess
    withEmail.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    withEmail.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ],
      },
    });
  });

  it('draws removals, failures, queue depth and age, the dead-letter queue, durations and alarms', () => {
    // Assess
    expect(dashboardOf(quiet).map((widget) => widget.properties.title)).toEqual([
      'Tag removals (10.0.0.5:5000, dry run: none; plans in the worker logs)',
      'Failures',
      'Queue depth and age',
      'Dead-letter queue',
      'Function durations (p50, p99)',
      'Cleanup run duration per repository',
      'Ledger: notification events (lost: the ledger failed or took longer than 1 s)',
      'Alarms',
    ]);
    expect(dashboardOf(noLedger).map((widget) => widget.properties.title)).not.toContain(
      'Ledger: notification events (lost: the ledger failed or took longer than 1 s)',
    );
  });

  it("charts the webhook's ledger events with the dimensions it emits: service, registry host", () => {
    // Prepare
    const ledgerMetrics = dashboardOf(quiet)
      .flatMap((widget) => widget.properties.metrics ?? [])
      .filter((metric) => metric[0] === 'regsweep' && String(metric[1]).startsWith('Ledger'));

    // Assess
    expect(ledgerMetrics.map((metric) => metric[1]).sort()).toEqual([
      'LedgerEventsLost',
      'LedgerEventsRecorded',
    ]);
    for (const metric of ledgerMetrics)
      expect(dimensionsOf(metric)).toEqual({ service: 'regsweep', registry: '10.0.0.5:5000' });
  });

  it("charts the worker's metrics with the dimensions the worker emits: service, registry host, mode", () => {
    // Prepare: every regsweep metric of the dashboard, as [namespace, name, ...dimension pairs].
    const regsweepMetrics = (template: Template) =>
      dashboardOf(template)
        .flatMap((widget) => widget.properties.metrics ?? [])
        .filter((metric) => metric[0] === 'regsweep' && !String(metric[1]).startsWith('Ledger'));

    // Assess
    for (const [template, registry, mode] of [
      [withEmail, 'registry.example.com', 'sweep'],
      [quiet, '10.0.0.5:5000', 'dry-run'],
    ] as const) {
      const metrics = regsweepMetrics(template);
      expect(new Set(metrics.map((metric) => metric[1]))).toEqual(
        new Set([
          'TagsDeleted',
          'TagsUntagged',
          'TagsKept',
          'RemovalsFailed',
          'TagsSkippedChanged',
          'RunDuration',
        ]),
      );
      // CloudWatch matches a metric by its whole dimension set, in any order.
      for (const metric of metrics)
        expect(dimensionsOf(metric)).toEqual({ service: 'regsweep', registry, mode });
    }
  });
});

describe('Stack: RegsweepStack', () => {
  const testApp = new TestApp({ bundle: false });
  let template: Template;

  beforeAll(() => {
    template = Template.fromStack(
      new RegsweepStack(testApp.app, 'Outputs', {
        cleaner: { registryUrl: EXAMPLE_REGISTRY, policy: EXAMPLE_POLICY },
      }),
    );
  });

  afterAll(() => testApp.dispose());

  it('outputs the webhook URL and a notifications config for the registry that posts to it with the token', () => {
    // Prepare
    const url = {
      'Fn::GetAtt': [
        logicalIdOf(template, 'AWS::Lambda::Url', 'RegistryCleanerWebhookFunctionFunctionUrl'),
        'FunctionUrl',
      ],
    };
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;

    // Act
    const config = YAML.parse(joined(outputs.RegistryNotificationsConfig.Value)) as unknown;

    // Assess
    expect(outputs.WebhookUrl.Value).toEqual(url);
    expect(config).toEqual({
      notifications: {
        endpoints: [
          {
            name: 'regsweep',
            url: `{${url['Fn::GetAtt'].join('.')}}`,
            headers: { Authorization: ['Bearer <webhookToken from the secret>'] },
            timeout: '10s',
            threshold: 5,
            backoff: '30s',
            // The ledger records pulls and deletes: only blob events and mounts are left out.
            ignore: { mediatypes: ['application/octet-stream'], actions: ['mount'] },
          },
        ],
      },
    });
  });

  it('outputs the sweep function to run now and the dashboard to watch', () => {
    // Prepare
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;

    // Assess
    expect(outputs.SweepFunctionName.Value).toEqual({
      Ref: logicalIdOf(template, 'AWS::Lambda::Function', 'RegistryCleanerSweepFunction'),
    });
    expect(outputs.DashboardName.Value).toEqual({
      Ref: logicalIdOf(template, 'AWS::CloudWatch::Dashboard', 'RegistryCleanerMonitoringDashboard'),
    });
  });

  it('outputs where the token is, never the token', () => {
    // Prepare
    const secret = { Ref: logicalIdOf(template, 'AWS::SecretsManager::Secret', 'RegistryCleanerSecret') };
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;

    // Assess
    expect(outputs.SecretArn.Value).toEqual(secret);
    expect(joined(outputs.WebhookTokenCommand.Value)).toBe(
      `aws secretsmanager get-secret-value --secret-id {Ref:${secret.Ref}} --query SecretString --output text | jq -r .webhookToken`,
    );
    expect(JSON.stringify(outputs)).not.toContain('resolve:secretsmanager');
  });
});
