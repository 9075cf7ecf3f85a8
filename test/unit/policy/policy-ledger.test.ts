import {
  assertLedgerAvailable,
  compilePolicy,
  ledgerRequirements,
  parsePolicy,
  PolicyError,
} from '../../../lambda/policy';

/** The PolicyError a call throws; fails the test when it does not throw one. */
function policyErrorOf(act: () => unknown): PolicyError {
  try {
    act();
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  throw new Error('expected a PolicyError');
}

// The DESIGN.md example's ledger parts.
const LEDGER_POLICY = `
rules:
  - name: branch-builds
    order: natural
    keep: 3
  - name: pull-requests
    tags: pr-\\d+-.*
    olderThan: 7d
    keepPulledWithin: 30d
  - name: nightly
    tags: nightly-.*
    order: pushed
    keep: 7
untagged:
  - olderThan: 2d
    keepPulledWithin: 7d
  - repositories: ["tools/*"]
    olderThan: 1w
ledger:
  ignorePullsFrom: ["^Trivy/", "^aws-inspector"]
`;

describe('Function: parsePolicy (ledger fields)', () => {
  it('reads order natural and pushed, keepPulledWithin, untagged and ledger, with defaults', () => {
    // Act
    const policy = parsePolicy(LEDGER_POLICY);

    // Assess
    expect(policy.document.rules.map((rule) => [rule.order, rule.keepPulledWithin])).toEqual([
      ['natural', undefined],
      ['created', '30d'],
      ['pushed', undefined],
    ]);
    expect(policy.document.untagged).toEqual([
      { repositories: ['**'], olderThan: '2d', keepPulledWithin: '7d' },
      { repositories: ['tools/*'], olderThan: '1w' },
    ]);
    expect(policy.document.ledger).toEqual({ ignorePullsFrom: ['^Trivy/', '^aws-inspector'] });
  });

  it('compiles durations, globs and user-agent regexes (searched, not anchored)', () => {
    // Act
    const policy = parsePolicy(LEDGER_POLICY);

    // Assess
    expect(policy.rules[1]?.keepPulledWithinMs).toBe(30 * 86_400_000);
    expect(policy.untagged.map((entry) => [entry.olderThanMs, entry.keepPulledWithinMs])).toEqual([
      [2 * 86_400_000, 7 * 86_400_000],
      [7 * 86_400_000, undefined],
    ]);
    expect(policy.untagged[1]?.matchesRepository('tools/lint')).toBe(true);
    expect(policy.untagged[1]?.matchesRepository('apps/web')).toBe(false);
    const [trivy] = policy.ledger.ignorePullsFrom;
    expect(trivy?.test('Trivy/0.50 (linux)')).toBe(true);
    expect(trivy?.test('docker/27.0 Trivy/0.50')).toBe(false);
    expect(policy.ledger.ignorePullsFrom[1]?.test('aws-inspector2/1.0')).toBe(true);
  });

  it('leaves untagged and ledger out of a document that has neither (older documents compile unchanged)', () => {
    // Act
    const policy = compilePolicy({ rules: [{ keep: 1 }] });

    // Assess
    expect(Object.keys(policy.document)).toEqual(['protect', 'rules', 'limits']);
    expect(policy.document.rules[0]).not.toHaveProperty('keepPulledWithin');
    expect(policy.untagged).toEqual([]);
    expect(policy.ledger.ignorePullsFrom).toEqual([]);
  });

  it('compiles its own normalized document back to an equal document', () => {
    // Prepare
    const first = parsePolicy(LEDGER_POLICY);

    // Act
    const second = compilePolicy(JSON.parse(JSON.stringify(first.document)));

    // Assess
    expect(second.document).toEqual(first.document);
  });

  it.each<[string, unknown, string[]]>([
    [
      'a bad keepPulledWithin',
      { rules: [{ keep: 1, keepPulledWithin: '30 days' }] },
      ["rules[0].keepPulledWithin: '30 days' is not a duration (use e.g. 30s, 15m, 12h, 14d, 2w)"],
    ],
    [
      'a misspelt keepPulledWithin',
      { rules: [{ keep: 1, keepPulledWitin: '30d' }] },
      ["rules[0].keepPulledWitin: unknown key (did you mean 'keepPulledWithin'?)"],
    ],
    [
      'an untagged entry without olderThan',
      { rules: [{ keep: 1 }], untagged: [{ repositories: ['**'] }] },
      ['untagged[0].olderThan: required: a duration such as 14d'],
    ],
    [
      'a misspelt key of an untagged entry',
      { rules: [{ keep: 1 }], untagged: [{ olderThan: '2d', keepPulledWitin: '7d' }] },
      ["untagged[0].keepPulledWitin: unknown key (did you mean 'keepPulledWithin'?)"],
    ],
    [
      'a bad glob in an untagged entry',
      { rules: [{ keep: 1 }], untagged: [{ olderThan: '2d', repositories: ['Apps/**'] }] },
      ["untagged[0].repositories[0]: 'Apps/**' can never match: repository names are lower-case"],
    ],
    [
      'untagged given as a mapping',
      { rules: [{ keep: 1 }], untagged: { olderThan: '2d' } },
      ['untagged: expected a list of untagged entries'],
    ],
    [
      'a bad user-agent regex',
      { rules: [{ keep: 1 }], ledger: { ignorePullsFrom: ['^Trivy/', '(scanner'] } },
      ['ledger.ignorePullsFrom[1]: invalid regular expression: Unterminated group'],
    ],
    [
      'a misspelt ledger key',
      { rules: [{ keep: 1 }], ledger: { ignorePullFrom: ['^Trivy/'] } },
      ["ledger.ignorePullFrom: unknown key (did you mean 'ignorePullsFrom'?)"],
    ],
    [
      'a misspelt top-level untagged',
      { rules: [{ keep: 1 }], untaged: [] },
      ["untaged: unknown key (did you mean 'untagged'?)"],
    ],
  ])('rejects %s, naming the field', (_label, value, issues) => {
    // Act
    const error = policyErrorOf(() => compilePolicy(value));

    // Assess
    expect(error.issues).toEqual(issues);
  });
});

describe('Function: ledgerRequirements', () => {
  it('names every field that uses a ledger feature, in policy order', () => {
    // Prepare
    const policy = parsePolicy(LEDGER_POLICY);

    // Act
    const fields = ledgerRequirements(policy);

    // Assess
    expect(fields).toEqual([
      'rules[1].keepPulledWithin',
      'rules[2].order',
      'untagged',
      'untagged[0].keepPulledWithin',
    ]);
  });

  it('needs nothing for natural, semver and created orders, an empty untagged list or a ledger section', () => {
    // Prepare
    const policy = compilePolicy({
      rules: [{ order: 'natural', keep: 1 }, { order: 'semver', keep: 2 }, { olderThan: '7d' }],
      untagged: [],
      ledger: { ignorePullsFrom: ['^Trivy/'] },
    });

    // Act & Assess
    expect(ledgerRequirements(policy)).toEqual([]);
  });
});

describe('Function: assertLedgerAvailable', () => {
  const policy = compilePolicy({
    rules: [{ keep: 1 }, { order: 'natural', keep: 1 }, { olderThan: '7d', keepPulledWithin: '30d' }],
  });

  it('refuses a policy with ledger features and no ledger, in the shape DESIGN.md gives', () => {
    // Act
    const error = policyErrorOf(() => assertLedgerAvailable(policy, false, { source: 'policy.yaml' }));

    // Assess
    expect(error.issues).toEqual(['rules[2].keepPulledWithin needs a ledger: --ledger FILE']);
    expect(error.message).toBe('policy.yaml: rules[2].keepPulledWithin needs a ledger: --ledger FILE');
    expect(error.code).toBe('POLICY_INVALID');
  });

  it('lets the caller name its own way to give a ledger, keeping the field first', () => {
    // Act
    const error = policyErrorOf(() =>
      assertLedgerAvailable(policy, false, { hint: 'set REGSWEEP_LEDGER_TABLE' }),
    );

    // Assess
    expect(error.issues).toEqual(['rules[2].keepPulledWithin needs a ledger: set REGSWEEP_LEDGER_TABLE']);
  });

  it('accepts the policy when a ledger is there, and a policy without ledger features either way', () => {
    // Act & Assess
    expect(() => assertLedgerAvailable(policy, true)).not.toThrow();
    expect(() =>
      assertLedgerAvailable(compilePolicy({ rules: [{ order: 'natural', keep: 1 }] }), false),
    ).not.toThrow();
  });
});
