import * as logs from 'aws-cdk-lib/aws-logs';
import { readAppContext, type CONTEXT_KEYS } from '../../lib/app-context';
import { RegistryCleanerConfigError } from '../../lib/errors';

type Context = Partial<Record<(typeof CONTEXT_KEYS)[number], unknown>>;

function read(context: Context) {
  return readAppContext((key) => context[key]);
}

function issuesOf(context: Context): string[] {
  try {
    read(context);
  } catch (error) {
    if (error instanceof RegistryCleanerConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected a RegistryCleanerConfigError');
}

describe('Function: readAppContext', () => {
  it('reads the registry, policy and secret, and names the stack Regsweep by default', () => {
    // Act
    const config = read({
      registryUrl: 'https://registry.example.com',
      policy: 'policy.yaml',
      secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:regsweep-AbC123',
    });

    // Assess
    expect(config.stackName).toBe('Regsweep');
    expect(config.stackProps.cleaner).toEqual({
      registryUrl: 'https://registry.example.com',
      policy: 'policy.yaml',
      secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:regsweep-AbC123',
    });
    expect(config.stackProps.env).toBeUndefined();
  });

  it('reads strings from the command line and typed values from cdk.json alike', () => {
    // Act
    const fromFlags = read({
      policy: 'p.yaml',
      dryRun: 'true',
      ledger: 'false',
      workerConcurrency: '5',
      logRetentionDays: '7',
    });
    const fromJson = read({
      policy: 'p.yaml',
      dryRun: true,
      ledger: false,
      workerConcurrency: 5,
      logRetentionDays: 7,
    });

    // Assess
    for (const config of [fromFlags, fromJson]) {
      expect(config.stackProps.cleaner).toMatchObject({
        dryRun: true,
        ledger: false,
        workerConcurrency: 5,
        logRetention: logs.RetentionDays.ONE_WEEK,
      });
    }
  });

  it('passes the schedule on as an EventBridge expression and the worker timeout in minutes', () => {
    // Act
    const config = read({ policy: 'p.yaml', schedule: 'cron(30 2 ? * SUN *)', workerTimeoutMinutes: '12' });

    // Assess
    expect(config.stackProps.cleaner.schedule?.expressionString).toBe('cron(30 2 ? * SUN *)');
    expect(config.stackProps.cleaner.workerTimeout?.toMinutes()).toBe(12);
  });

  it('sends alarms to an email and looks a VPC up in the CLI account and region', () => {
    // Prepare
    const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
    process.env.CDK_DEFAULT_ACCOUNT = '123456789012';
    process.env.CDK_DEFAULT_REGION = 'eu-west-1';

    try {
      // Act
      const config = read({
        policy: 'p.yaml',
        alarmEmail: 'ops@example.com',
        vpcId: 'vpc-0a1b2c3d',
        subnetIds: 'subnet-1, subnet-2',
      });

      // Assess
      expect(config.stackProps).toMatchObject({
        alarmEmail: 'ops@example.com',
        vpcId: 'vpc-0a1b2c3d',
        subnetIds: ['subnet-1', 'subnet-2'],
        env: { account: '123456789012', region: 'eu-west-1' },
      });
    } finally {
      process.env.CDK_DEFAULT_ACCOUNT = saved.account;
      process.env.CDK_DEFAULT_REGION = saved.region;
      if (saved.account === undefined) delete process.env.CDK_DEFAULT_ACCOUNT;
      if (saved.region === undefined) delete process.env.CDK_DEFAULT_REGION;
    }
  });

  it('names every bad key at once', () => {
    // Act
    const issues = issuesOf({
      dryRun: 'yes',
      ledger: 'off',
      schedule: 'daily',
      alarmEmail: 'ops',
      logRetentionDays: '10',
      workerConcurrency: 'two',
      subnetIds: 'subnet-1',
    });

    // Assess
    expect(issues.map((issue) => issue.split(':')[0])).toEqual([
      '-c policy',
      '-c dryRun',
      '-c ledger',
      '-c schedule',
      '-c alarmEmail',
      '-c logRetentionDays',
      '-c workerConcurrency',
      '-c subnetIds',
    ]);
  });
});
