import { readFileSync } from 'node:fs';
import path from 'node:path';
import { compilePolicy, parsePolicy, PolicyError, PolicySyntaxError } from '../../../lambda/policy';

const FIXTURES = path.join(__dirname, '../../fixtures/policies');

function fixture(name: string): string {
  return readFileSync(path.join(FIXTURES, name), 'utf8');
}

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

describe('Function: parsePolicy', () => {
  it('reads the DESIGN.md example and applies defaults', () => {
    // Act
    const policy = parsePolicy(fixture('design-example.yaml'), 'design-example.yaml');

    // Assess
    expect(policy.document).toEqual({
      registry: 'http://localhost:5000',
      protect: ['latest', 'v?\\d+\\.\\d+\\.\\d+'],
      rules: [
        {
          name: 'branch-builds',
          repositories: ['apps/**'],
          tags: '(main|develop)-[0-9a-f]{7,40}',
          exclude: '.*-keep',
          groupBy: '(.+)-[0-9a-f]{7,40}',
          order: 'created',
          keep: 3,
          olderThan: '14d',
        },
        {
          name: 'pull-requests',
          repositories: ['**'],
          tags: 'pr-\\d+-.*',
          order: 'created',
          olderThan: '7d',
        },
      ],
      limits: { maxDeletesPerRun: 500 },
    });
  });

  it('reads JSON and names unnamed rules by their index', () => {
    // Act
    const policy = parsePolicy(fixture('valid-minimal.json'));

    // Assess
    expect(policy.document.rules.map((rule) => rule.name)).toEqual(['rules[0]', 'rules[1]']);
    expect(policy.document.rules[1]).toEqual({
      name: 'rules[1]',
      repositories: ['**'],
      order: 'semver',
      keep: 5,
    });
    expect(policy.document.protect).toEqual([]);
    expect(policy.document.limits).toEqual({});
  });

  it('reports every mistake of a policy at once, each naming its field', () => {
    // Act
    const error = policyErrorOf(() => parsePolicy(fixture('invalid-many.yaml'), 'invalid-many.yaml'));

    // Assess
    expect([...error.issues].sort()).toEqual(
      [
        'protect[1]: invalid regular expression: Unterminated group',
        'rules[0].keep: expected a non-negative integer',
        "rules[0].olderthan: unknown key (did you mean 'olderThan'?)",
        'rules[1].tags: invalid regular expression: Unterminated group',
        'rules[1].groupBy: needs a capture group 1 that names the stream, e.g. (.+)-[0-9a-f]{7}',
        "rules[1].olderThan: '14x' is not a duration (use e.g. 30s, 15m, 12h, 14d, 2w)",
        "rules[1].name: duplicate rule name 'branch-builds' (also rules[0])",
        'limits.maxDeletesPerRun: expected a positive integer',
      ].sort(),
    );
    expect(error.message.split('\n')).toHaveLength(error.issues.length);
    expect(error.message).toContain('invalid-many.yaml: rules[1].tags: invalid regular expression');
    expect(error.source).toBe('invalid-many.yaml');
  });

  it('reports repository glob mistakes', () => {
    // Act
    const error = policyErrorOf(() => parsePolicy(fixture('invalid-globs.yaml')));

    // Assess
    expect(error.issues).toEqual([
      "rules[0].repositories[0]: 'Apps/**' can never match: repository names are lower-case",
      'rules[1].repositories: expected a list of repository globs, e.g. ["apps/**"]',
      "rules[2].repositories[0]: 'apps/{web' is not a valid glob",
    ]);
  });

  it('reports YAML syntax errors with line and column', () => {
    // Act
    const error = policyErrorOf(() =>
      parsePolicy(fixture('invalid-syntax.policy.txt'), 'invalid-syntax.policy.txt'),
    );

    // Assess
    expect(error).toBeInstanceOf(PolicySyntaxError);
    expect(error.issues[0]).toMatch(/^line 4, column 5: Flow sequence/);
    expect(error.message).toMatch(/^invalid-syntax\.policy\.txt: line 4, column 5: /);
  });

  it.each([
    ['a file with only a comment', fixture('invalid-empty.yaml')],
    ['an empty file', ''],
    ['whitespace', '  \n\n'],
  ])('rejects %s as empty', (_label, text) => {
    // Act
    const error = policyErrorOf(() => parsePolicy(text));

    // Assess
    expect(error).toBeInstanceOf(PolicySyntaxError);
    expect(error.issues).toEqual(['the policy is empty']);
  });

  it('rejects more than one YAML document', () => {
    // Act
    const error = policyErrorOf(() => parsePolicy('rules: [{ keep: 1 }]\n---\nrules: [{ keep: 2 }]\n'));

    // Assess
    expect(error.issues).toEqual(['line 2, column 1: the policy must be a single YAML document']);
  });

  it('rejects duplicate keys', () => {
    // Act
    const error = policyErrorOf(() => parsePolicy('rules:\n  - keep: 1\n    keep: 2\n'));

    // Assess
    expect(error.issues[0]).toMatch(/^line 3, column 5: .*unique/i);
  });
});

describe('Function: compilePolicy', () => {
  it.each<[string, unknown, string]>([
    ['a list', [], 'policy: expected a mapping with rules'],
    ['null', null, 'policy: the policy is empty'],
    ['no rules', {}, 'rules: required: a list of rules'],
    [
      'zero rules',
      { rules: [] },
      'rules: expected at least one rule (a policy without rules removes nothing)',
    ],
    ['a rule that is not a mapping', { rules: ['keep 3'] }, 'rules[0]: expected a rule (a mapping)'],
    ['a fractional keep', { rules: [{ keep: 1.5 }] }, 'rules[0].keep: expected a non-negative integer'],
    ['a keep given as text', { rules: [{ keep: '3' }] }, 'rules[0].keep: expected a non-negative integer'],
    [
      'an unknown order',
      { rules: [{ order: 'name' }] },
      "rules[0].order: expected one of 'created', 'semver', 'natural', 'pushed'",
    ],
    [
      'a duration without a unit',
      { rules: [{ olderThan: '14' }] },
      "rules[0].olderThan: '14' is not a duration (use e.g. 30s, 15m, 12h, 14d, 2w)",
    ],
    [
      'a duration as a number',
      { rules: [{ olderThan: 14 }] },
      'rules[0].olderThan: expected a duration such as 14d',
    ],
    [
      'a regex given as a number (unquoted YAML)',
      { rules: [{ tags: 1.0 }] },
      'rules[0].tags: expected a regular expression (a string; quote it in YAML)',
    ],
    [
      'an empty regex',
      { rules: [{ exclude: '' }] },
      'rules[0].exclude: expected a non-empty regular expression',
    ],
    [
      'an empty repository list',
      { rules: [{ repositories: [] }] },
      'rules[0].repositories: expected at least one repository glob (leave the field out for all repositories)',
    ],
    [
      'the reserved rule name',
      { rules: [{ name: 'protect', keep: 1 }] },
      "rules[0].name: 'protect' is reserved for protected tags",
    ],
    [
      'an empty rule name',
      { rules: [{ name: '', keep: 1 }] },
      'rules[0].name: expected a rule name, not an empty string',
    ],
    [
      'a name colliding with a default name',
      { rules: [{ keep: 1 }, { name: 'rules[0]', keep: 2 }] },
      "rules[1].name: duplicate rule name 'rules[0]' (also rules[0])",
    ],
    [
      'an unknown top-level key',
      { rules: [{ keep: 1 }], protected: ['x'] },
      "protected: unknown key (did you mean 'protect'?)",
    ],
    [
      'an unknown key without a near match',
      { rules: [{ keep: 1 }], limits: { perRun: 3 } },
      'limits.perRun: unknown key (expected one of: maxDeletesPerRun)',
    ],
    [
      'a registry that is not a URL',
      { registry: 'localhost:5000', rules: [{ keep: 1 }] },
      'registry: expected an http:// or https:// URL',
    ],
    [
      'a registry URL with credentials',
      { registry: 'http://user:pass@127.0.0.1:5000', rules: [{ keep: 1 }] },
      'registry: must not contain credentials (use REGSWEEP_USERNAME/REGSWEEP_PASSWORD)',
    ],
    [
      'an unanchorable regex',
      { protect: ['a)|(b'], rules: [{ keep: 1 }] },
      "protect[0]: invalid regular expression: Unmatched ')'",
    ],
  ])('rejects %s', (_label, value, issue) => {
    // Act
    const error = policyErrorOf(() => compilePolicy(value));

    // Assess
    expect(error.issues).toEqual([issue]);
    expect(error.code).toBe('POLICY_INVALID');
  });

  it('compiles its own normalized document back to an equal document (Lambda env round trip)', () => {
    // Prepare
    const first = parsePolicy(fixture('design-example.yaml'));

    // Act
    const second = compilePolicy(JSON.parse(JSON.stringify(first.document)));

    // Assess
    expect(second.document).toEqual(first.document);
  });

  it('anchors regexes to the whole tag', () => {
    // Prepare
    const policy = compilePolicy({ protect: ['latest|stable'], rules: [{ tags: 'main-.*', keep: 1 }] });

    // Act
    const protect = policy.protect[0]?.regex;
    const tags = policy.rules[0]?.tags;

    // Assess
    expect(['latest', 'stable'].map((tag) => protect?.test(tag))).toEqual([true, true]);
    expect(['latest-1', 'not-stable', 'xlatest'].map((tag) => protect?.test(tag))).toEqual([
      false,
      false,
      false,
    ]);
    expect(tags?.test('main-1')).toBe(true);
    expect(tags?.test('x-main-1')).toBe(false);
  });
});
