import fc from 'fast-check';
import {
  assertLedgerAvailable,
  compareNatural,
  compilePolicy,
  ledgerRequirements,
  PolicyError,
} from '../../../lambda/policy';

describe('Function: compareNatural (properties)', () => {
  // Names made of text and number runs, numbers sometimes zero-padded.
  const run = fc.oneof(
    fc.constantFrom('b', '-', '.', 'rc', 'v', 'x-', '_', 'B'),
    fc.tuple(fc.nat(1000), fc.nat(2)).map(([n, zeros]) => `${'0'.repeat(zeros)}${n}`),
  );
  const name = fc.array(run, { minLength: 1, maxLength: 6 }).map((runs) => runs.join(''));

  it('is a total order: antisymmetric, 0 only for equal names, transitive', () => {
    fc.assert(
      fc.property(name, name, name, (a, b, c) => {
        // Act & Assess
        expect(Math.sign(compareNatural(a, b)) + Math.sign(compareNatural(b, a))).toBe(0);
        expect(compareNatural(a, b) === 0).toBe(a === b);
        const [first, second, third] = [a, b, c].sort(compareNatural) as [string, string, string];
        expect(compareNatural(first, second)).toBeLessThanOrEqual(0);
        expect(compareNatural(second, third)).toBeLessThanOrEqual(0);
        expect(compareNatural(first, third)).toBeLessThanOrEqual(0);
      }),
    );
  });

  it('compares the number embedded between the same text as a number', () => {
    const text = fc.constantFrom('', 'b-', 'build.', 'v', '2024.3.');
    const tail = fc.constantFrom('', '-rc', '.1', '-b9');
    fc.assert(
      fc.property(
        text,
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        tail,
        fc.nat(2),
        (prefix, m, n, suffix, zeros) => {
          // Prepare
          const left = `${prefix}${'0'.repeat(zeros)}${m}${suffix}`;
          const right = `${prefix}${n}${suffix}`;

          // Act & Assess
          if (m !== n) expect(Math.sign(compareNatural(left, right))).toBe(m < n ? -1 : 1);
        },
      ),
    );
  });
});

describe('Function: ledgerRequirements (properties)', () => {
  const duration = fc.constantFrom('1d', '7d');
  const policyValue = fc.record(
    {
      rules: fc.array(
        fc.record(
          {
            order: fc.constantFrom('created', 'semver', 'natural', 'pushed'),
            keep: fc.nat(3),
            keepPulledWithin: duration,
          },
          { requiredKeys: [] },
        ),
        { minLength: 1, maxLength: 4 },
      ),
      untagged: fc.array(
        fc.record({ olderThan: duration, keepPulledWithin: duration }, { requiredKeys: ['olderThan'] }),
        {
          maxLength: 3,
        },
      ),
      ledger: fc.constant({ ignorePullsFrom: ['^Trivy/'] }),
    },
    { requiredKeys: ['rules'] },
  );

  /** Every path of a JSON value whose key and value make it a ledger feature, found by walking it. */
  function ledgerFeatures(value: unknown, path = ''): string[] {
    if (Array.isArray(value)) {
      const own = path === 'untagged' && value.length > 0 ? [path] : [];
      return [...own, ...value.flatMap((item, index) => ledgerFeatures(item, `${path}[${index}]`))];
    }
    if (value === null || typeof value !== 'object') return [];
    return Object.entries(value).flatMap(([key, child]) => {
      const childPath = path ? `${path}.${key}` : key;
      const own = key === 'keepPulledWithin' || (key === 'order' && child === 'pushed') ? [childPath] : [];
      return [...own, ...ledgerFeatures(child, childPath)];
    });
  }

  it('names every ledger field the policy uses, and refuses it without a ledger', () => {
    fc.assert(
      fc.property(policyValue, (value) => {
        // Prepare
        const policy = compilePolicy(value);
        const expected = ledgerFeatures(value);

        // Act
        const fields = ledgerRequirements(policy);
        let refused: PolicyError | undefined;
        try {
          assertLedgerAvailable(policy, false);
        } catch (error) {
          refused = error as PolicyError;
        }

        // Assess
        expect([...fields].sort()).toEqual([...expected].sort());
        expect(refused?.issues ?? []).toEqual(
          fields.map((field) => `${field} needs a ledger: --ledger FILE`),
        );
        expect(() => assertLedgerAvailable(policy, true)).not.toThrow();
      }),
    );
  });
});
