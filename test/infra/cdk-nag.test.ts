import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { RegistryCleaner } from '../../lib/registry-cleaner';
import { RegsweepStack } from '../../lib/regsweep-stack';
import { EXAMPLE_POLICY, EXAMPLE_REGISTRY, TestApp } from './helpers/synth';

/** The rule ids of what AwsSolutions reports on `scope`, with the paths of the offending resources. */
function findingsOf(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks(scope).validateScope(scope);
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map(
      // cdk-nag names the construct path of each resource (the CDK type knows only logical ids).
      (resource) => `${violation.ruleName} at ${(resource as { constructPath?: string }).constructPath}`,
    ),
  );
}

/** Every acknowledged rule in the tree under `scope`, as `path: id -> reason`. */
function acknowledgmentsOf(scope: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id,
          reason,
        })),
      ),
  );
}

describe('Stack: RegsweepStack (cdk-nag AwsSolutions)', () => {
  const testApp = new TestApp({ bundle: false });
  let defaults: Stack;
  let everything: Stack;

  beforeAll(() => {
    defaults = new RegsweepStack(testApp.app, 'Defaults', {
      cleaner: { registryUrl: EXAMPLE_REGISTRY, policy: EXAMPLE_POLICY },
    });
    everything = new RegsweepStack(testApp.app, 'Everything', {
      cleaner: {
        registryUrl: EXAMPLE_REGISTRY,
        policy: EXAMPLE_POLICY,
        secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:regsweep-AbC123',
        webhookReservedConcurrency: 5,
      },
      alarmEmail: 'ops@example.com',
    });
    // A private registry: the VPC is imported, as a real one would be.
    const vpc = ec2.Vpc.fromVpcAttributes(everything, 'Vpc', {
      vpcId: 'vpc-0a1b2c3d',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      privateSubnetIds: ['subnet-0a1b2c3d', 'subnet-1a2b3c4d'],
    });
    new RegistryCleaner(everything, 'PrivateCleaner', {
      registryUrl: 'https://registry.internal',
      policy: EXAMPLE_POLICY,
      vpc,
      secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:private-AbC123',
      secretEncryptionKey: kms.Key.fromKeyArn(
        everything,
        'Key',
        'arn:aws:kms:eu-west-1:123456789012:key/0b6c8f5e-7d0a-4c1b-9a53-2f6e1d8c4b7a',
      ),
    });
    testApp.app.synth();
  });

  afterAll(() => testApp.dispose());

  it('leaves no finding unacknowledged with the defaults', () => {
    // Assess
    expect(findingsOf(defaults)).toEqual([]);
  });

  it('leaves no finding unacknowledged with an alarm email, an existing secret and a VPC', () => {
    // Assess
    expect(findingsOf(everything)).toEqual([]);
  });

  it('acknowledges only these findings, each with a written reason', () => {
    // Act
    const acknowledged = acknowledgmentsOf(everything);

    // Assess: the runtime choice, the VPC access policy, and the alarm topic's encryption.
    expect([...new Set(acknowledged.map(({ id }) => id.replace(/^Annotation::/, '')))].sort()).toEqual([
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      'AwsSolutions-L1',
      'AwsSolutions-SNS2',
    ]);
    for (const { reason } of acknowledged) expect(reason.length).toBeGreaterThan(80);
    // The generated secret's rotation finding belongs to the default stack only.
    expect(acknowledgmentsOf(defaults).map(({ id }) => id)).toContain('Annotation::AwsSolutions-SMG4');
  });

  it('does report what is not acknowledged (the checks run)', () => {
    // Prepare: a queue without TLS enforcement or dead-letter queue, next to the cleaner.
    const control = new Stack(new TestApp({ bundle: false }).app, 'Control');
    new sqs.Queue(control, 'Careless');

    // Act
    const findings = findingsOf(control);

    // Assess
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AwsSolutions-SQS3 /),
        expect.stringMatching(/^AwsSolutions-SQS4 /),
      ]),
    );
  });
});
