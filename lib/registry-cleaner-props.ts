import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { InvalidRegistryUrlError, registryOrigin } from '../lambda/domain/registry-url';
import { RegistryCleanerConfigError } from './errors';
import { loadPolicy, type LoadedPolicy, type PolicySource } from './policy-source';

/** Configuration of a {@link RegistryCleaner}. Everything but `policy` has a default. */
export interface RegistryCleanerProps {
  /**
   * The registry's base URL (`https://registry.example.com`, no path). It is the only address the
   * functions ever call; notification payloads cannot redirect them elsewhere.
   * @default the policy's `registry` field (synth fails when neither is set)
   */
  readonly registryUrl?: string;
  /**
   * The retention policy: the path of a YAML or JSON policy file (relative to where `cdk synth`
   * runs) or the policy as an object. It is validated at synth: a bad policy fails the synth with
   * the field at fault.
   */
  readonly policy: PolicySource;
  /**
   * When the scheduled sweep queues every covered repository.
   * @default daily at 03:00 UTC
   */
  readonly schedule?: events.Schedule;
  /**
   * Plan and report (logs, metrics) but remove nothing.
   * @default false
   */
  readonly dryRun?: boolean;
  /**
   * The ARN of an existing Secrets Manager secret holding `{"username","password"}` or
   * `{"token"}` for the registry, plus `"webhookToken"` (16+ characters) for the webhook. Give
   * the complete ARN (ending in `-` and 6 characters) when you have it; a name-only ARN is granted
   * with the `-??????` suffix wildcard.
   * @default a new secret holding a generated `webhookToken` (add the registry credentials to it)
   */
  readonly secretArn?: string;
  /**
   * The customer managed KMS key that encrypts the secret of `secretArn`; the functions get
   * `kms:Decrypt` on it. Only with `secretArn`.
   * @default the secret is encrypted with the AWS managed key `aws/secretsmanager`
   */
  readonly secretEncryptionKey?: kms.IKey;
  /**
   * A VPC for the worker and sweep functions, for a registry in a private network. They need a
   * route to Secrets Manager and SQS (NAT or VPC endpoints). The webhook function stays outside:
   * it never calls the registry.
   * @default no VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * The subnets of `vpc` for the worker and sweep functions. Only with `vpc`.
   * @default the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups of the worker and sweep functions. Only with `vpc`.
   * @default one new group that allows all outbound traffic
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Where the alarms (dead-letter queue depth, function errors) send their state changes.
   * @default no alarm actions: the alarms show in CloudWatch and on the dashboard only
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * How long the functions' log groups keep their logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * How many worker invocations may run at once (the SQS event source's maximum concurrency,
   * 2 to 1000): the most repositories cleaned in parallel, i.e. the load on the registry.
   * @default 2
   */
  readonly workerConcurrency?: number;
  /**
   * Queue messages (repositories) per worker invocation, 1 to 10 (FIFO queue limit).
   * @default 1: each repository gets the whole `workerTimeout`
   */
  readonly workerBatchSize?: number;
  /**
   * The worker's timeout (at most 15 minutes). The queue's visibility timeout is six times this.
   * @default Duration.minutes(5)
   */
  readonly workerTimeout?: Duration;
  /**
   * Reserved concurrency of the webhook function. Its Function URL is public (the bearer token is
   * the gate), so this caps what a flood of requests can cost; it needs that much unreserved
   * concurrency in the account.
   * @default no reservation
   */
  readonly webhookReservedConcurrency?: number;
  /**
   * Create the ledger: one DynamoDB table (on demand, point-in-time recovery, TTL) where the
   * webhook records what the notifications say (pushes, client pulls, deletes) and the worker
   * archives each manifest before removing it. `order: pushed`, `keepPulledWithin` and `untagged`
   * need it: with `false` a policy using them fails the synth, naming the field.
   * @default true
   */
  readonly ledger?: boolean;
  /**
   * What happens to the ledger table when the stack is deleted. Only with the ledger on.
   * @default RemovalPolicy.RETAIN: the push and pull times and the archives `restore` needs stay
   */
  readonly ledgerRemovalPolicy?: RemovalPolicy;
}

/** The props after defaults and validation. */
export interface CleanerSettings {
  /** The registry's origin, `https://registry.example.com`. */
  readonly registryUrl: string;
  /** `registry.example.com[:port]`: the `registry` dimension of the worker's metrics. */
  readonly registryHost: string;
  readonly policy: LoadedPolicy;
  readonly schedule: events.Schedule;
  readonly dryRun: boolean;
  readonly logRetention: logs.RetentionDays;
  readonly workerConcurrency: number;
  readonly workerBatchSize: number;
  readonly workerTimeout: Duration;
  /** The ledger table's removal policy; undefined: no ledger. */
  readonly ledger?: { readonly removalPolicy: RemovalPolicy };
}

/** Daily at 03:00 UTC: a quiet hour in most of Europe and the Americas. */
export const DEFAULT_SCHEDULE = events.Schedule.cron({ minute: '0', hour: '3' });
export const DEFAULT_WORKER_TIMEOUT = Duration.minutes(5);
export const DEFAULT_WORKER_CONCURRENCY = 2;
export const DEFAULT_WORKER_BATCH_SIZE = 1;
/** SQS event source limits for `maxConcurrency`, and Lambda's longest timeout. */
const MIN_MAX_CONCURRENCY = 2;
const MAX_MAX_CONCURRENCY = 1000;
const MAX_FIFO_BATCH_SIZE = 10;
const MAX_LAMBDA_TIMEOUT_SECONDS = 900;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/;

/**
 * Checks the props and applies defaults. Every problem is reported at once, each naming its prop.
 *
 * @throws RegistryCleanerConfigError
 */
export function resolveSettings(props: RegistryCleanerProps): CleanerSettings {
  const issues: string[] = [];
  const onlyWith = (prop: string, required: string) =>
    issues.push(`${prop}: only applies together with ${required}; set ${required} or remove ${prop}`);
  if (props.vpcSubnets !== undefined && props.vpc === undefined) onlyWith('vpcSubnets', 'vpc');
  if (props.securityGroups !== undefined && props.vpc === undefined) onlyWith('securityGroups', 'vpc');
  const hasLedger = props.ledger ?? true;
  if (props.ledgerRemovalPolicy !== undefined && !hasLedger) {
    issues.push(
      'ledgerRemovalPolicy: only applies with the ledger on; remove `ledger: false` or ledgerRemovalPolicy',
    );
  }
  if (props.secretEncryptionKey !== undefined && props.secretArn === undefined) {
    onlyWith('secretEncryptionKey', 'secretArn');
  }
  if (
    props.secretArn !== undefined &&
    !Token.isUnresolved(props.secretArn) &&
    !SECRET_ARN.test(props.secretArn)
  ) {
    issues.push(
      'secretArn: expected a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
    );
  }
  const workerConcurrency = integerIn(
    issues,
    'workerConcurrency',
    props.workerConcurrency ?? DEFAULT_WORKER_CONCURRENCY,
    MIN_MAX_CONCURRENCY,
    MAX_MAX_CONCURRENCY,
  );
  const workerBatchSize = integerIn(
    issues,
    'workerBatchSize',
    props.workerBatchSize ?? DEFAULT_WORKER_BATCH_SIZE,
    1,
    MAX_FIFO_BATCH_SIZE,
  );
  if (props.webhookReservedConcurrency !== undefined) {
    integerIn(issues, 'webhookReservedConcurrency', props.webhookReservedConcurrency, 1, MAX_MAX_CONCURRENCY);
  }
  const workerTimeout = props.workerTimeout ?? DEFAULT_WORKER_TIMEOUT;
  const timeoutSeconds = workerTimeout.toSeconds();
  if (timeoutSeconds < 1 || timeoutSeconds > MAX_LAMBDA_TIMEOUT_SECONDS) {
    issues.push(`workerTimeout: expected 1 second to 15 minutes, got ${workerTimeout.toHumanString()}`);
  }

  let policy: LoadedPolicy | undefined;
  try {
    policy = loadPolicy(props.policy, { hasLedger });
  } catch (error) {
    if (!(error instanceof RegistryCleanerConfigError)) throw error;
    issues.push(...error.issues);
  }
  if (!hasLedger && policy?.policy.document.limits.maxDeletesPerRun !== undefined) {
    // Without the ledger's run record each worker invocation (one repository) would get the whole
    // limit: a typo over 500 repositories could remove 500 times it. Refused rather than weakened.
    issues.push(
      'policy: limits.maxDeletesPerRun needs the ledger on AWS (the scheduled run shares one budget ' +
        'across its workers through the ledger table): remove `ledger: false`, or the limit',
    );
  }
  const registry = registryFrom(issues, props.registryUrl, policy);
  if (issues.length > 0 || !policy || !registry) throw new RegistryCleanerConfigError(issues);
  return {
    ...registry,
    policy,
    schedule: props.schedule ?? DEFAULT_SCHEDULE,
    dryRun: props.dryRun ?? false,
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    workerConcurrency,
    workerBatchSize,
    workerTimeout,
    ...(hasLedger && { ledger: { removalPolicy: props.ledgerRemovalPolicy ?? RemovalPolicy.RETAIN } }),
  };
}

function integerIn(issues: string[], prop: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    issues.push(`${prop}: expected a whole number from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** The registry URL: the prop, else the policy's `registry` (as the CLI's `--registry` overrides it). */
function registryFrom(
  issues: string[],
  prop: string | undefined,
  policy: LoadedPolicy | undefined,
): { registryUrl: string; registryHost: string } | undefined {
  const value = prop ?? policy?.policy.document.registry;
  const field = prop !== undefined ? 'registryUrl' : 'policy: registry';
  if (value === undefined) {
    if (policy) issues.push('registryUrl: required (or set `registry` in the policy)');
    return undefined;
  }
  if (Token.isUnresolved(value)) {
    // The URL's host names the metrics on the dashboard and alarms, so it must be known at synth.
    issues.push(`${field}: must be a literal URL known at synth time, not a token`);
    return undefined;
  }
  try {
    const registryUrl = registryOrigin(value);
    return { registryUrl, registryHost: new URL(registryUrl).host };
  } catch (error) {
    if (!(error instanceof InvalidRegistryUrlError)) throw error;
    issues.push(`${field}: ${error.message}`);
    return undefined;
  }
}
