import path from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { RegistryCleanerConfigError } from '../../lib/errors';
import { MAX_POLICY_JSON_BYTES } from '../../lib/policy-source';
import { RegistryCleaner, type RegistryCleanerProps } from '../../lib/registry-cleaner';
import { EXAMPLE_POLICY, EXAMPLE_REGISTRY, TestApp, emptyStack, errorMessageOf } from './helpers/synth';

const POLICIES = path.join(__dirname, '..', 'fixtures', 'policies');

/** Builds a cleaner that must fail before creating anything (so nothing is bundled). */
function build(props: Partial<RegistryCleanerProps>, stack: Stack = emptyStack()): string {
  const message = errorMessageOf(
    () =>
      new RegistryCleaner(stack, 'RegistryCleaner', {
        registryUrl: EXAMPLE_REGISTRY,
        policy: EXAMPLE_POLICY,
        ...props,
      }),
  );
  expect(
    stack.node.findAll().filter((construct) => construct.node.path.includes('RegistryCleaner/')),
  ).toEqual([]);
  return message;
}

describe('Construct: RegistryCleaner (props)', () => {
  it('rejects vpcSubnets and securityGroups without a vpc, naming both props', () => {
    // Prepare
    const stack = emptyStack();
    const vpc = new ec2.Vpc(stack, 'Vpc');
    const group = new ec2.SecurityGroup(stack, 'Group', { vpc });

    // Act
    const message = build(
      { vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, securityGroups: [group] },
      stack,
    );

    // Assess
    expect(message).toContain('vpcSubnets: only applies together with vpc');
    expect(message).toContain('securityGroups: only applies together with vpc');
  });

  it('rejects a secretEncryptionKey without a secretArn: the generated secret uses its own key', () => {
    // Prepare
    const stack = emptyStack();
    const key = kms.Key.fromKeyArn(
      stack,
      'Key',
      'arn:aws:kms:eu-west-1:123456789012:key/0b6c8f5e-7d0a-4c1b-9a53-2f6e1d8c4b7a',
    );

    // Act
    const message = build({ secretEncryptionKey: key }, stack);

    // Assess
    expect(message).toContain('secretEncryptionKey: only applies together with secretArn');
  });

  it('rejects a secretArn that is not a Secrets Manager ARN', () => {
    // Act
    const message = build({ secretArn: 'arn:aws:ssm:eu-west-1:123456789012:parameter/regsweep' });

    // Assess
    expect(message).toContain('secretArn: expected a Secrets Manager secret ARN');
  });

  it.each([
    [
      'workerConcurrency',
      { workerConcurrency: 1 },
      'workerConcurrency: expected a whole number from 2 to 1000, got 1',
    ],
    [
      'workerBatchSize',
      { workerBatchSize: 11 },
      'workerBatchSize: expected a whole number from 1 to 10, got 11',
    ],
    [
      'workerTimeout',
      { workerTimeout: Duration.minutes(16) },
      'workerTimeout: expected 1 second to 15 minutes',
    ],
    [
      'webhookReservedConcurrency',
      { webhookReservedConcurrency: 0.5 },
      'webhookReservedConcurrency: expected a whole',
    ],
  ])('rejects an out-of-range %s', (_name, props, expected) => {
    // Act
    const message = build(props);

    // Assess
    expect(message).toContain(expected);
  });

  it.each([
    ['a path', 'https://registry.example.com/v2', 'registryUrl: invalid registry URL: it has a path (/v2)'],
    [
      'credentials',
      'https://bot:hunter2@registry.example.com',
      'registryUrl: invalid registry URL: it contains credentials',
    ],
    ['another scheme', 'ftp://registry.example.com', 'registryUrl: invalid registry URL: scheme ftp:'],
  ])('rejects a registry URL with %s', (_what, registryUrl, expected) => {
    // Act
    const message = build({ registryUrl });

    // Assess
    expect(message).toContain(expected);
    expect(message).not.toContain('hunter2');
  });

  it("fails when neither registryUrl nor the policy's registry is set", () => {
    // Act
    const message = build({ registryUrl: undefined, policy: { rules: [{ name: 'all', keep: 3 }] } });

    // Assess
    expect(message).toContain('registryUrl: required (or set `registry` in the policy)');
  });

  it('fails with every issue of a bad policy file, each naming its rule and field', () => {
    // Act
    const message = build({ policy: path.join(POLICIES, 'invalid-many.yaml') });

    // Assess: the issues of test/fixtures/policies/invalid-many.yaml, prefixed with the source.
    const source = `policy (${path.join(POLICIES, 'invalid-many.yaml')})`;
    expect(message).toMatch(new RegExp(`${escape(source)}: protect\\[1\\]: `));
    expect(message).toMatch(new RegExp(`${escape(source)}: rules\\[0\\]\\.keep: `));
    expect(message).toMatch(new RegExp(`${escape(source)}: rules\\[1\\]\\.olderThan: `));
    expect(message).toMatch(new RegExp(`${escape(source)}: limits\\.maxDeletesPerRun: `));
  });

  it('fails with the line and column of a policy that is not YAML', () => {
    // Act
    const message = build({ policy: path.join(POLICIES, 'invalid-syntax.policy.txt') });

    // Assess
    expect(message).toMatch(/invalid-syntax\.policy\.txt\): line \d+, column \d+: /);
  });

  it('fails naming the field of a bad policy object', () => {
    // Act
    const message = build({ policy: { rules: [{ name: 'prs', tags: '(pr-\\d+', olderThan: '7 days' }] } });

    // Assess
    expect(message).toContain('policy: rules[0].tags: ');
    expect(message).toContain('policy: rules[0].olderThan: ');
  });

  it('fails naming each field that needs a ledger when the ledger is off', () => {
    // Act
    const message = build({
      ledger: false,
      policy: {
        rules: [{ name: 'prs', tags: 'pr-.*', order: 'pushed', keep: 2, keepPulledWithin: '30d' }],
        untagged: [{ olderThan: '2d' }],
      },
    });

    // Assess
    expect(message).toContain(
      'policy: rules[0].order needs a ledger: the RegistryCleaner has `ledger: false`; remove it to create the ledger table',
    );
    expect(message).toContain('policy: rules[0].keepPulledWithin needs a ledger');
    expect(message).toContain('policy: untagged needs a ledger');
  });

  it('accepts the fields that need a ledger with the ledger on (the default)', () => {
    // Prepare
    const testApp = new TestApp({ bundle: false });

    try {
      // Act
      const { cleaner } = testApp.cleanerStack('LedgerPolicy', {
        policy: {
          rules: [{ name: 'prs', tags: 'pr-.*', order: 'pushed', keep: 2, keepPulledWithin: '30d' }],
          untagged: [{ olderThan: '2d', keepPulledWithin: '7d' }],
          ledger: { ignorePullsFrom: ['^Trivy/'] },
        },
      });

      // Assess
      expect(cleaner.ledger?.table).toBeDefined();
    } finally {
      testApp.dispose();
    }
  });

  it('refuses limits.maxDeletesPerRun with the ledger off: the scheduled run could not share one budget', () => {
    // Act
    const message = build({
      ledger: false,
      policy: { rules: [{ name: 'all', keep: 2 }], limits: { maxDeletesPerRun: 50 } },
    });

    // Assess
    expect(message).toContain('policy: limits.maxDeletesPerRun needs the ledger on AWS');
  });

  it('rejects a ledgerRemovalPolicy with the ledger off', () => {
    // Act
    const message = build({ ledger: false, ledgerRemovalPolicy: RemovalPolicy.DESTROY });

    // Assess
    expect(message).toContain('ledgerRemovalPolicy: only applies with the ledger on');
  });

  it('fails naming a policy file that cannot be read', () => {
    // Act
    const message = build({ policy: 'no/such/policy.yaml' });

    // Assess
    expect(message).toContain('policy: cannot read the file no/such/policy.yaml (ENOENT)');
  });

  it('fails when the policy is too large for the Lambda environment', () => {
    // Prepare: enough rules to pass the limit.
    const rules = Array.from({ length: 60 }, (_, index) => ({
      name: `rule-${index}`,
      tags: `team-${index}-.*`,
      keep: 5,
    }));

    // Act
    const message = build({ policy: { rules } });

    // Assess
    expect(message).toContain(`more than the ${MAX_POLICY_JSON_BYTES} that fit in a Lambda environment`);
  });

  it('throws one RegistryCleanerConfigError listing every problem at once', () => {
    // Act
    let error: unknown;
    try {
      new RegistryCleaner(emptyStack(), 'RegistryCleaner', {
        registryUrl: 'https://registry.example.com/path',
        policy: { rules: [{ name: 'x', keep: -1 }] },
        workerConcurrency: 0,
      });
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(RegistryCleanerConfigError);
    expect((error as RegistryCleanerConfigError).issues.map((issue) => issue.split(':')[0])).toEqual([
      'workerConcurrency',
      'policy',
      'registryUrl',
    ]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
