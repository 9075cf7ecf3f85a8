import { readFileSync } from 'node:fs';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import { parsePolicy } from '../../lambda/policy';
import { EXAMPLE_POLICY, TestApp, logicalIdOf } from './helpers/synth';

const FUNCTIONS = ['Webhook', 'Worker', 'Sweep'] as const;

describe('Construct: RegistryCleaner', () => {
  const testApp = new TestApp({ bundle: false });
  let defaults: Template;
  let tuned: Template;
  let fromPolicy: Template;
  let noLedger: Template;
  let disposable: Template;
  const fn = (template: Template, name: (typeof FUNCTIONS)[number]) =>
    logicalIdOf(template, 'AWS::Lambda::Function', `RegistryCleaner${name}Function`);
  const functionProps = (template: Template, name: (typeof FUNCTIONS)[number]) =>
    template.findResources('AWS::Lambda::Function')[fn(template, name)].Properties;
  const queueId = (template: Template) => logicalIdOf(template, 'AWS::SQS::Queue', 'RegistryCleanerQueue');
  const ledgerId = (template: Template) =>
    logicalIdOf(template, 'AWS::DynamoDB::Table', 'RegistryCleanerLedgerTable');
  const deadLetterId = (template: Template) =>
    logicalIdOf(template, 'AWS::SQS::Queue', 'RegistryCleanerDeadLetterQueue');

  beforeAll(() => {
    // Every stack first: the app synthesizes once, and cannot change afterwards.
    const defaultStack = testApp.cleanerStack('Defaults').stack;
    const tunedStack = testApp.cleanerStack('Tuned', {
      dryRun: true,
      schedule: events.Schedule.rate(Duration.hours(6)),
      workerConcurrency: 5,
      workerBatchSize: 3,
      workerTimeout: Duration.minutes(10),
      logRetention: logs.RetentionDays.ONE_WEEK,
      webhookReservedConcurrency: 10,
    }).stack;
    const fromPolicyStack = testApp.cleanerStack('FromPolicy', {
      registryUrl: undefined,
      policy: { registry: 'http://registry.internal:5000/', rules: [{ name: 'all', keep: 10 }] },
    }).stack;
    const noLedgerStack = testApp.cleanerStack('NoLedger', { ledger: false }).stack;
    const disposableStack = testApp.cleanerStack('Disposable', {
      ledgerRemovalPolicy: RemovalPolicy.DESTROY,
    }).stack;
    defaults = Template.fromStack(defaultStack);
    noLedger = Template.fromStack(noLedgerStack);
    disposable = Template.fromStack(disposableStack);
    tuned = Template.fromStack(tunedStack);
    fromPolicy = Template.fromStack(fromPolicyStack);
  });

  afterAll(() => testApp.dispose());

  it('creates a FIFO cleanup queue with SSE-SQS whose visibility timeout is six times the worker timeout', () => {
    // Assess: defaults (5 min worker) and a 10 min worker.
    for (const [template, workerSeconds] of [
      [defaults, 300],
      [tuned, 600],
    ] as const) {
      expect(functionProps(template, 'Worker').Timeout).toBe(workerSeconds);
      template.hasResource('AWS::SQS::Queue', {
        Properties: Match.objectLike({
          FifoQueue: true,
          SqsManagedSseEnabled: true,
          VisibilityTimeout: 6 * workerSeconds,
          // The registry notifies a push before it links the tag: let it settle.
          DelaySeconds: 2,
        }),
      });
    }
  });

  it('moves a message to a FIFO dead-letter queue after 5 receives, and keeps it there 14 days', () => {
    // Assess
    const queues = defaults.findResources('AWS::SQS::Queue');
    expect(queues[queueId(defaults)].Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterId(defaults), 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(queues[deadLetterId(defaults)].Properties).toEqual({
      FifoQueue: true,
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it('denies every request to either queue that does not use TLS', () => {
    // Assess
    for (const queue of [queueId(defaults), deadLetterId(defaults)]) {
      defaults.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queue }],
        PolicyDocument: {
          Statement: [
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ],
        },
      });
    }
  });

  it('feeds the worker from the queue with ReportBatchItemFailures, a batch size and a maximum concurrency', () => {
    // Assess
    for (const [template, batchSize, concurrency] of [
      [defaults, 1, 2],
      [tuned, 3, 5],
    ] as const) {
      template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [queueId(template), 'Arn'] },
        FunctionName: { Ref: fn(template, 'Worker') },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: batchSize,
        ScalingConfig: { MaximumConcurrency: concurrency },
      });
    }
  });

  it('invokes the sweep function on the schedule, daily at 03:00 UTC by default', () => {
    // Assess
    for (const [template, expression] of [
      [defaults, 'cron(0 3 * * ? *)'],
      [tuned, 'rate(6 hours)'],
    ] as const) {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: expression,
        State: 'ENABLED',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fn(template, 'Sweep'), 'Arn'] } })],
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [fn(template, 'Sweep'), 'Arn'] },
        Principal: 'events.amazonaws.com',
      });
    }
  });

  it('exposes the webhook function, and only it, through a Function URL with AuthType NONE', () => {
    // Assess
    defaults.resourceCountIs('AWS::Lambda::Url', 1);
    defaults.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': [fn(defaults, 'Webhook'), 'Arn'] },
    });
    defaults.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunctionUrl',
      FunctionName: { 'Fn::GetAtt': [fn(defaults, 'Webhook'), 'Arn'] },
      FunctionUrlAuthType: 'NONE',
      Principal: '*',
    });
  });

  it('runs every function on Node.js 22 on arm64', () => {
    // Assess
    defaults.resourceCountIs('AWS::Lambda::Function', 3);
    for (const name of FUNCTIONS) {
      expect(functionProps(defaults, name)).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
      });
    }
  });

  it('gives each function the Lambda contract environment and the queue URL (the worker queues continuations)', () => {
    // Prepare: the policy as the functions must receive it, validated and normalized.
    const policyJson = JSON.stringify(parsePolicy(readFileSync(EXAMPLE_POLICY, 'utf8')).document);
    const secret = { Ref: logicalIdOf(defaults, 'AWS::SecretsManager::Secret', 'RegistryCleanerSecret') };
    const common = {
      REGSWEEP_REGISTRY: 'https://registry.example.com',
      REGSWEEP_POLICY: policyJson,
      REGSWEEP_SECRET_ARN: secret,
      REGSWEEP_DRY_RUN: 'false',
      NODE_OPTIONS: '--enable-source-maps',
    };
    const queueUrl = { REGSWEEP_QUEUE_URL: { Ref: queueId(defaults) } };
    const ledger = { REGSWEEP_LEDGER_TABLE: { Ref: ledgerId(defaults) } };

    // Assess
    const variables = (name: (typeof FUNCTIONS)[number]) =>
      (functionProps(defaults, name).Environment as { Variables: unknown }).Variables;
    expect(variables('Webhook')).toEqual({ ...common, ...queueUrl, ...ledger });
    expect(variables('Sweep')).toEqual({ ...common, ...queueUrl, ...ledger });
    expect(variables('Worker')).toEqual({ ...common, ...queueUrl, ...ledger });
  });

  it('creates one ledger table: on demand, encrypted, point-in-time recovery, TTL on expiresAt, retained', () => {
    // Assess
    defaults.resourceCountIs('AWS::DynamoDB::Table', 1);
    const table = defaults.findResources('AWS::DynamoDB::Table')[ledgerId(defaults)];
    expect(table.Properties).toEqual({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });

  it('deletes the ledger table with the stack only when told to', () => {
    // Assess
    const table = disposable.findResources('AWS::DynamoDB::Table')[ledgerId(disposable)];
    expect(table.DeletionPolicy).toBe('Delete');
  });

  it('creates no table and sets no REGSWEEP_LEDGER_TABLE with ledger: false', () => {
    // Assess
    noLedger.resourceCountIs('AWS::DynamoDB::Table', 0);
    for (const name of FUNCTIONS) {
      const variables = (functionProps(noLedger, name).Environment as { Variables: object }).Variables;
      expect(Object.keys(variables)).not.toContain('REGSWEEP_LEDGER_TABLE');
    }
  });

  it("calls the policy's registry when no registryUrl is given", () => {
    // Assess
    for (const name of FUNCTIONS) {
      expect(functionProps(fromPolicy, name).Environment).toMatchObject({
        Variables: { REGSWEEP_REGISTRY: 'http://registry.internal:5000' },
      });
    }
  });

  it('tells every function to plan only when dryRun is set', () => {
    // Assess
    for (const name of FUNCTIONS) {
      expect(functionProps(tuned, name).Environment).toMatchObject({
        Variables: { REGSWEEP_DRY_RUN: 'true' },
      });
    }
  });

  it('creates a secret with a generated 48-character webhookToken when no secret ARN is given', () => {
    // Assess
    defaults.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: {
        SecretStringTemplate: '{}',
        GenerateStringKey: 'webhookToken',
        PasswordLength: 48,
        ExcludePunctuation: true,
        IncludeSpace: false,
      },
    });
  });

  it('writes each function to its own log group with the retention, one month by default', () => {
    // Assess
    for (const [template, days] of [
      [defaults, 30],
      [tuned, 7],
    ] as const) {
      const groups = FUNCTIONS.map((name) => {
        const id = logicalIdOf(template, 'AWS::Logs::LogGroup', `RegistryCleaner${name}Logs`);
        expect(template.findResources('AWS::Logs::LogGroup')[id].Properties).toEqual({
          RetentionInDays: days,
        });
        expect(functionProps(template, name).LoggingConfig).toEqual({ LogGroup: { Ref: id } });
        return id;
      });
      expect(new Set(groups).size).toBe(3);
    }
  });

  it('reserves concurrency for the webhook only when asked', () => {
    // Assess
    expect(functionProps(defaults, 'Webhook').ReservedConcurrentExecutions).toBeUndefined();
    expect(functionProps(tuned, 'Webhook').ReservedConcurrentExecutions).toBe(10);
    expect(functionProps(tuned, 'Worker').ReservedConcurrentExecutions).toBeUndefined();
  });
});
