import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { RegistryCleaner } from '../../lib/registry-cleaner';
import { TestApp, logicalIdOf } from './helpers/synth';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:regsweep/registry-AbC123';
const SECRET_KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/0b6c8f5e-7d0a-4c1b-9a53-2f6e1d8c4b7a';
const NAME_ONLY_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:regsweep/registry';
type Name = 'Webhook' | 'Worker' | 'Sweep';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every statement of the inline policies attached to the role of function `name`. */
function statementsOf(template: Template, name: Name): Statement[] {
  const role = logicalIdOf(template, 'AWS::IAM::Role', `RegistryCleaner${name}Role`);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: role }]))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

/** `action -> resources` of a role, to compare whole grants at once. */
function grantsOf(template: Template, name: Name): Record<string, unknown[]> {
  const grants: Record<string, unknown[]> = {};
  for (const statement of statementsOf(template, name)) {
    expect(statement.Effect).toBe('Allow');
    for (const action of [statement.Action].flat()) {
      grants[action] = [...(grants[action] ?? []), ...[statement.Resource].flat()];
    }
  }
  return grants;
}

describe('Construct: RegistryCleaner (IAM)', () => {
  const testApp = new TestApp({ bundle: false });
  let defaults: Template;
  let privateNetwork: Template;
  let nameOnly: Template;
  let noLedger: Template;

  beforeAll(() => {
    const defaultStack = testApp.cleanerStack('Defaults').stack;
    const privateStack = new Stack(testApp.app, 'Private');
    const vpc = new ec2.Vpc(privateStack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const securityGroup = new ec2.SecurityGroup(privateStack, 'Group', { vpc });
    const key = kms.Key.fromKeyArn(privateStack, 'SecretKey', SECRET_KEY_ARN);
    new RegistryCleaner(privateStack, 'RegistryCleaner', {
      registryUrl: 'https://registry.internal:5000',
      policy: { rules: [{ name: 'all', keep: 10 }] },
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroup],
      secretArn: SECRET_ARN,
      secretEncryptionKey: key,
    });
    const nameOnlyStack = testApp.cleanerStack('NameOnly', { secretArn: NAME_ONLY_SECRET_ARN }).stack;
    const noLedgerStack = testApp.cleanerStack('NoLedger', { ledger: false }).stack;
    defaults = Template.fromStack(defaultStack);
    noLedger = Template.fromStack(noLedgerStack);
    privateNetwork = Template.fromStack(privateStack);
    nameOnly = Template.fromStack(nameOnlyStack);
  });

  afterAll(() => testApp.dispose());

  it('lets each function write its own log group, read the secret, send, and the worker consume', () => {
    // Prepare
    const secret = { Ref: logicalIdOf(defaults, 'AWS::SecretsManager::Secret', 'RegistryCleanerSecret') };
    const queue = { 'Fn::GetAtt': [logicalIdOf(defaults, 'AWS::SQS::Queue', 'RegistryCleanerQueue'), 'Arn'] };
    const logs = (name: Name) => ({
      'Fn::GetAtt': [logicalIdOf(defaults, 'AWS::Logs::LogGroup', `RegistryCleaner${name}Logs`), 'Arn'],
    });
    const common = (name: Name) => ({
      'logs:CreateLogStream': [logs(name)],
      'logs:PutLogEvents': [logs(name)],
      'secretsmanager:GetSecretValue': [secret],
      'secretsmanager:DescribeSecret': [secret],
    });
    const send = {
      'sqs:SendMessage': [queue],
      'sqs:GetQueueAttributes': [queue],
      'sqs:GetQueueUrl': [queue],
    };
    const table = {
      'Fn::GetAtt': [logicalIdOf(defaults, 'AWS::DynamoDB::Table', 'RegistryCleanerLedgerTable'), 'Arn'],
    };
    const onTable = (...actions: string[]) =>
      Object.fromEntries(actions.map((action) => [`dynamodb:${action}`, [table]]));

    // Assess: the webhook records events; the sweep creates its run; the worker reads and writes.
    expect(grantsOf(defaults, 'Webhook')).toEqual({
      ...common('Webhook'),
      ...send,
      ...onTable('PutItem', 'UpdateItem', 'DeleteItem', 'Query'),
    });
    expect(grantsOf(defaults, 'Sweep')).toEqual({
      ...common('Sweep'),
      ...send,
      ...onTable('PutItem', 'GetItem'),
    });
    // The worker queues continuations, and re-times messages whose pushed tags are not linked yet.
    expect(grantsOf(defaults, 'Worker')).toEqual({
      ...common('Worker'),
      ...onTable('GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'),
      'sqs:ReceiveMessage': [queue],
      'sqs:ChangeMessageVisibility': [queue],
      'sqs:DeleteMessage': [queue],
      'sqs:SendMessage': [queue],
      'sqs:GetQueueAttributes': [queue, queue],
      'sqs:GetQueueUrl': [queue, queue],
    });
  });

  it('grants no DynamoDB action without the ledger', () => {
    // Assess
    for (const name of ['Webhook', 'Worker', 'Sweep'] as const) {
      expect(
        Object.keys(grantsOf(noLedger, name)).filter((action) => action.startsWith('dynamodb:')),
      ).toEqual([]);
    }
  });

  it('grants no wildcard action and no wildcard resource', () => {
    // Assess
    for (const template of [defaults, privateNetwork, nameOnly, noLedger]) {
      for (const name of ['Webhook', 'Worker', 'Sweep'] as const) {
        for (const statement of statementsOf(template, name)) {
          for (const action of [statement.Action].flat()) expect(action).not.toContain('*');
          for (const resource of [statement.Resource].flat()) expect(resource).not.toBe('*');
        }
      }
    }
  });

  it('reads an existing secret by its complete ARN, with kms:Decrypt on its key through Secrets Manager only', () => {
    // Assess
    privateNetwork.resourceCountIs('AWS::SecretsManager::Secret', 0);
    for (const name of ['Webhook', 'Worker', 'Sweep'] as const) {
      const grants = grantsOf(privateNetwork, name);
      expect(grants['secretsmanager:GetSecretValue']).toEqual([SECRET_ARN]);
      expect(grants['kms:Decrypt']).toEqual([SECRET_KEY_ARN]);
      const decrypt = statementsOf(privateNetwork, name).find(
        (statement) => statement.Action === 'kms:Decrypt',
      );
      expect(decrypt?.Condition).toEqual({
        StringEquals: {
          'kms:ViaService': {
            'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
          },
        },
      });
    }
  });

  it('grants a name-only secret ARN with the six-character suffix wildcard of Secrets Manager', () => {
    // Assess
    expect(grantsOf(nameOnly, 'Worker')['secretsmanager:GetSecretValue']).toEqual([
      `${NAME_ONLY_SECRET_ARN}-??????`,
    ]);
  });

  it('gives the roles no managed policy, except VPC access for the functions in a VPC', () => {
    // Prepare
    const managed = (template: Template, name: Name) =>
      template.findResources('AWS::IAM::Role')[
        logicalIdOf(template, 'AWS::IAM::Role', `RegistryCleaner${name}Role`)
      ].Properties.ManagedPolicyArns;
    const vpcAccess = [
      {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole',
          ],
        ],
      },
    ];

    // Assess
    for (const name of ['Webhook', 'Worker', 'Sweep'] as const)
      expect(managed(defaults, name)).toBeUndefined();
    expect(managed(privateNetwork, 'Webhook')).toBeUndefined();
    expect(managed(privateNetwork, 'Worker')).toEqual(vpcAccess);
    expect(managed(privateNetwork, 'Sweep')).toEqual(vpcAccess);
  });

  it('places the worker and sweep functions in the chosen subnets and groups, the webhook outside', () => {
    // Prepare
    const functionProps = (name: Name) =>
      privateNetwork.findResources('AWS::Lambda::Function')[
        logicalIdOf(privateNetwork, 'AWS::Lambda::Function', `RegistryCleaner${name}Function`)
      ].Properties;
    const privateSubnets = Object.keys(privateNetwork.findResources('AWS::EC2::Subnet'))
      .filter((id) => id.startsWith('VpcPrivateSubnet'))
      .map((id) => ({ Ref: id }));
    const group = {
      'Fn::GetAtt': [logicalIdOf(privateNetwork, 'AWS::EC2::SecurityGroup', 'Group'), 'GroupId'],
    };

    // Assess
    expect(privateSubnets).toHaveLength(2);
    expect(functionProps('Webhook').VpcConfig).toBeUndefined();
    for (const name of ['Worker', 'Sweep'] as const) {
      expect(functionProps(name).VpcConfig).toEqual({ SubnetIds: privateSubnets, SecurityGroupIds: [group] });
    }
  });
});
