import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import { RegistryCleanerConfigError } from './errors';
import type { RegsweepStackProps } from './regsweep-stack';

/** The stack name when `-c stackName=...` is not given. */
export const DEFAULT_STACK_NAME = 'Regsweep';

/** What `bin/app.ts` needs: the stack's name and props. */
export interface AppConfig {
  readonly stackName: string;
  readonly stackProps: RegsweepStackProps;
}

/**
 * The CDK context keys the app reads (`npx cdk synth -c key=value`, or `context` in cdk.json).
 * Values from the command line are strings; cdk.json may also give booleans and numbers.
 */
export const CONTEXT_KEYS = [
  'registryUrl',
  'policy',
  'secretArn',
  'schedule',
  'dryRun',
  'ledger',
  'alarmEmail',
  'workerConcurrency',
  'workerTimeoutMinutes',
  'logRetentionDays',
  'vpcId',
  'subnetIds',
  'stackName',
] as const;

type ContextKey = (typeof CONTEXT_KEYS)[number];

const SCHEDULE_EXPRESSION = /^(rate|cron)\(.+\)$/;
const RETENTION_DAYS = new Set<number>(
  Object.values(logs.RetentionDays).filter((value): value is number => typeof value === 'number'),
);

/**
 * Reads the app's configuration from CDK context. Every problem is reported at once, each naming
 * its context key (`-c dryRun: expected true or false`).
 *
 * @param context - `(key) => app.node.tryGetContext(key)`
 * @throws RegistryCleanerConfigError
 */
export function readAppContext(context: (key: ContextKey) => unknown): AppConfig {
  const issues: string[] = [];
  const text = (key: ContextKey): string | undefined => {
    const value = context(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value === 'string') return value.trim();
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    issues.push(`-c ${key}: expected a string, got ${typeof value}`);
    return undefined;
  };
  const whole = (key: ContextKey): number | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) issues.push(`-c ${key}: expected a whole number, got "${value}"`);
    return Number(value);
  };

  const policy = text('policy');
  if (policy === undefined) issues.push('-c policy: required: the path of the retention policy file');
  const dryRun = text('dryRun');
  if (dryRun !== undefined && dryRun !== 'true' && dryRun !== 'false') {
    issues.push(`-c dryRun: expected true or false, got "${dryRun}"`);
  }
  const ledger = text('ledger');
  if (ledger !== undefined && ledger !== 'true' && ledger !== 'false') {
    issues.push(`-c ledger: expected true or false, got "${ledger}"`);
  }
  const schedule = text('schedule');
  if (schedule !== undefined && !SCHEDULE_EXPRESSION.test(schedule)) {
    issues.push(
      `-c schedule: expected an EventBridge expression such as "rate(1 day)" or "cron(0 3 * * ? *)"`,
    );
  }
  const alarmEmail = text('alarmEmail');
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    issues.push(`-c alarmEmail: expected an email address, got "${alarmEmail}"`);
  }
  const logRetentionDays = whole('logRetentionDays');
  if (logRetentionDays !== undefined && !RETENTION_DAYS.has(logRetentionDays)) {
    issues.push(`-c logRetentionDays: CloudWatch Logs accepts ${[...RETENTION_DAYS].join(', ')}`);
  }
  const workerConcurrency = whole('workerConcurrency');
  const workerTimeoutMinutes = whole('workerTimeoutMinutes');
  const vpcId = text('vpcId');
  const subnetIds = text('subnetIds')
    ?.split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  if (subnetIds !== undefined && vpcId === undefined) {
    issues.push('-c subnetIds: only applies together with -c vpcId');
  }
  if (issues.length > 0 || policy === undefined) throw new RegistryCleanerConfigError(issues);

  const registryUrl = text('registryUrl');
  const secretArn = text('secretArn');
  return {
    stackName: text('stackName') ?? DEFAULT_STACK_NAME,
    stackProps: {
      description: 'regsweep: retention for a Docker/OCI registry (webhook, queue, worker, schedule)',
      cleaner: {
        policy,
        ...(registryUrl !== undefined && { registryUrl }),
        ...(secretArn !== undefined && { secretArn }),
        ...(schedule !== undefined && { schedule: events.Schedule.expression(schedule) }),
        ...(dryRun !== undefined && { dryRun: dryRun === 'true' }),
        ...(ledger !== undefined && { ledger: ledger === 'true' }),
        ...(workerConcurrency !== undefined && { workerConcurrency }),
        ...(workerTimeoutMinutes !== undefined && { workerTimeout: Duration.minutes(workerTimeoutMinutes) }),
        ...(logRetentionDays !== undefined && { logRetention: logRetentionDays as logs.RetentionDays }),
      },
      ...(alarmEmail !== undefined && { alarmEmail }),
      ...(vpcId !== undefined && {
        vpcId,
        // A VPC lookup needs a concrete account and region: the CLI's current ones.
        env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
      }),
      ...(subnetIds !== undefined && { subnetIds }),
    },
  };
}
