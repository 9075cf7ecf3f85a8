import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CleanerFunction } from './cleaner-function';
import { CleanerMonitoring } from './cleaner-monitoring';
import { LedgerTable } from './ledger-table';
import { NOTIFICATION_TIMEOUT_SECONDS, notificationsConfig } from './notifications-config';
import { resolveSettings, type CleanerSettings, type RegistryCleanerProps } from './registry-cleaner-props';

export type { RegistryCleanerProps } from './registry-cleaner-props';

/** Deliveries before a message moves to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;
/** AWS's advice for an SQS event source: visibility timeout at least six times the function's. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/**
 * How long each queued cleanup waits before the worker sees it. Not what keeps a pushed tag safe:
 * the registry notifies a push before it links the tag, and the worker holds each pushed digest
 * until its tag resolves to it (re-receiving the message a little later while it does not). Most
 * tags are linked within this wait, so it only saves those re-receipts.
 */
export const PUSH_SETTLE_DELAY = Duration.seconds(2);
/** SQS's longest retention: time to look at a failed cleanup before it is dropped. */
export const DEAD_LETTER_RETENTION = Duration.days(14);
const SWEEP_TIMEOUT = Duration.minutes(5);
const SMALL_MEMORY_MB = 256;
const WORKER_MEMORY_MB = 512;
/** The generated webhook token: letters and digits, header-safe, ~285 bits. */
const WEBHOOK_TOKEN_LENGTH = 48;

/**
 * regsweep on AWS: the registry's notifications reach a webhook function (Function URL), which
 * queues the pushed repositories on a FIFO queue (one message group per repository); a worker
 * cleans each one with the retention policy; a schedule starts a sweep that queues every
 * repository the policy covers. Failed cleanups are retried, then parked in a dead-letter queue,
 * which alarms. The ledger (a DynamoDB table, unless `ledger: false`) remembers what the
 * notifications said and archives each removed manifest.
 */
export class RegistryCleaner extends Construct {
  /** The registry origin the functions call (`https://registry.example.com`). */
  public readonly registryUrl: string;
  /** Registry credentials and the webhook token (see `RegistryCleanerProps.secretArn`). */
  public readonly secret: secretsmanager.ISecret;
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly webhookFunction: lambda.Function;
  public readonly workerFunction: lambda.Function;
  public readonly sweepFunction: lambda.Function;
  /** The ledger's table; undefined with `ledger: false`. */
  public readonly ledger?: LedgerTable;
  /** The webhook's public endpoint (auth NONE: the bearer token is the gate). */
  public readonly webhookUrl: lambda.FunctionUrl;
  public readonly schedule: events.Rule;
  public readonly monitoring: CleanerMonitoring;
  /** The registry config's `notifications` block (one line of YAML) that posts to `webhookUrl`. */
  public readonly notificationsConfig: string;

  public constructor(scope: Construct, id: string, props: RegistryCleanerProps) {
    super(scope, id);
    // Everything is checked before any resource exists: a bad prop or policy fails the synth.
    const settings = resolveSettings(props);
    this.registryUrl = settings.registryUrl;
    this.secret = this.createOrImportSecret(props);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_RETENTION,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(settings.workerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      deliveryDelay: PUSH_SETTLE_DELAY,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    this.ledger =
      settings.ledger && new LedgerTable(this, 'Ledger', { removalPolicy: settings.ledger.removalPolicy });

    const baseEnvironment = {
      REGSWEEP_REGISTRY: settings.registryUrl,
      REGSWEEP_POLICY: settings.policy.json,
      REGSWEEP_SECRET_ARN: this.secret.secretArn,
      REGSWEEP_DRY_RUN: String(settings.dryRun),
      ...(this.ledger && { REGSWEEP_LEDGER_TABLE: this.ledger.table.tableName }),
    };
    // Every function sends to the queue: the worker queues the continuation of a cleanup it stopped
    // before its deadline.
    const queueEnvironment = { ...baseEnvironment, REGSWEEP_QUEUE_URL: this.queue.queueUrl };
    const network = props.vpc && {
      vpc: props.vpc,
      ...(props.vpcSubnets && { vpcSubnets: props.vpcSubnets }),
      ...(props.securityGroups && { securityGroups: props.securityGroups }),
    };

    this.webhookFunction = new CleanerFunction(this, 'Webhook', {
      handler: 'webhook',
      description: `regsweep: registry notifications of ${settings.registryHost} -> cleanup queue`,
      environment: queueEnvironment,
      timeout: Duration.seconds(NOTIFICATION_TIMEOUT_SECONDS),
      memorySize: SMALL_MEMORY_MB,
      logRetention: settings.logRetention,
      ...(props.webhookReservedConcurrency !== undefined && {
        reservedConcurrentExecutions: props.webhookReservedConcurrency,
      }),
    }).function;
    this.workerFunction = new CleanerFunction(this, 'Worker', {
      handler: 'worker',
      description: `regsweep: cleans queued repositories of ${settings.registryHost}`,
      environment: queueEnvironment,
      timeout: settings.workerTimeout,
      memorySize: WORKER_MEMORY_MB,
      logRetention: settings.logRetention,
      ...network,
    }).function;
    this.sweepFunction = new CleanerFunction(this, 'Sweep', {
      handler: 'sweep',
      description: `regsweep: scheduled sweep of ${settings.registryHost} -> cleanup queue`,
      environment: queueEnvironment,
      timeout: SWEEP_TIMEOUT,
      memorySize: SMALL_MEMORY_MB,
      logRetention: settings.logRetention,
      ...network,
    }).function;

    // Least privilege: read the one secret; producers only send; the event source consumes, and the
    // worker sends its continuations.
    for (const fn of [this.webhookFunction, this.workerFunction, this.sweepFunction]) {
      this.secret.grantRead(fn);
      if (props.secretEncryptionKey)
        fn.addToRolePolicy(decryptThroughSecretsManager(props.secretEncryptionKey));
    }
    this.queue.grantSendMessages(this.webhookFunction);
    this.queue.grantSendMessages(this.sweepFunction);
    this.queue.grantSendMessages(this.workerFunction);
    // The ledger: the webhook records events, the worker plans, archives and records removals, the
    // sweep creates its run.
    this.ledger?.grant(this.webhookFunction, 'record');
    this.ledger?.grant(this.workerFunction, 'clean');
    this.ledger?.grant(this.sweepFunction, 'run');
    this.workerFunction.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: settings.workerBatchSize,
        maxConcurrency: settings.workerConcurrency,
        reportBatchItemFailures: true,
      }),
    );

    this.webhookUrl = this.webhookFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    this.schedule = this.createSchedule(settings);
    this.notificationsConfig = notificationsConfig(this.webhookUrl.url, {
      ledger: this.ledger !== undefined,
    });
    this.monitoring = new CleanerMonitoring(this, 'Monitoring', {
      functions: { webhook: this.webhookFunction, worker: this.workerFunction, sweep: this.sweepFunction },
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      registryHost: settings.registryHost,
      dryRun: settings.dryRun,
      ledger: this.ledger !== undefined,
      ...(props.alarmTopic && { alarmTopic: props.alarmTopic }),
    });
  }

  private createOrImportSecret(props: RegistryCleanerProps): secretsmanager.ISecret {
    if (props.secretArn !== undefined) {
      // A complete ARN ends in `-` and six random characters; a name-only ARN is granted as `-??????`.
      const complete = /-[A-Za-z0-9]{6}$/.test(props.secretArn);
      return secretsmanager.Secret.fromSecretAttributes(this, 'Secret', {
        ...(complete ? { secretCompleteArn: props.secretArn } : { secretPartialArn: props.secretArn }),
      });
    }
    const secret = new secretsmanager.Secret(this, 'Secret', {
      description:
        'regsweep: JSON {"webhookToken"} plus the registry credentials, {"username","password"} or {"token"}',
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: 'webhookToken',
        passwordLength: WEBHOOK_TOKEN_LENGTH,
        excludePunctuation: true,
        includeSpace: false,
      },
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The secret holds credentials issued by the registry (which only the registry can rotate) and the ' +
        'webhook token, which must change together with the registry config; both are rotated by hand ' +
        '(README, "The secret"), so a rotation Lambda would have nothing it could rotate on its own.',
    });
    return secret;
  }

  private createSchedule(settings: CleanerSettings): events.Rule {
    const rule = new events.Rule(this, 'Schedule', {
      description: `regsweep: sweep ${settings.registryHost}`,
      schedule: settings.schedule,
    });
    // The event id becomes the run id of the queued messages, so a retried delivery queues nothing twice.
    rule.addTarget(
      new targets.LambdaFunction(this.sweepFunction, { retryAttempts: 2, maxEventAge: Duration.hours(1) }),
    );
    return rule;
  }
}

/**
 * `kms:Decrypt` on the secret's key, only when Secrets Manager asks for it. Granted on the role
 * explicitly: `grantRead` of an imported secret grants nothing on an imported key.
 */
function decryptThroughSecretsManager(key: kms.IKey): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: ['kms:Decrypt'],
    resources: [key.keyArn],
    conditions: {
      StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(key).region}.amazonaws.com` },
    },
  });
}
