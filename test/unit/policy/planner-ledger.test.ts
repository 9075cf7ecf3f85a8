import type { Inventory, PlannedTag } from '../../../lambda/domain';
import { compareNatural, compilePolicy, planCleanup } from '../../../lambda/policy';
import { DAY_MS, digestOf, inventoryOf, ledgerRecord, NOW, tagRecord, tagsByName } from './builders';

const HOUR_MS = 3_600_000;

/** `[tag, action, reason]` of every tag of the plan's first repository, by tag name. */
function decisions(inventory: Inventory, rules: object[]): Array<[string, string, string]> {
  const plan = planCleanup(inventory, compilePolicy({ rules }), NOW);
  return [...tagsByName(plan)].map(([tag, planned]) => [tag, planned.action, planned.reason]);
}

describe('Function: compareNatural', () => {
  it.each<[string, string]>([
    ['b-9', 'b-10'],
    ['2024.3.1-2', '2024.3.10-1'],
    ['2024.3.9-7', '2024.3.10-1'],
    ['v1.9', 'v1.10'],
    ['007', '8'],
    ['99999999999999999999', '100000000000000000000'],
    ['build', 'build-1'],
    ['b-01', 'b-1'], // equal as numbers: plain text decides
    ['a-10', 'b-2'],
  ])('%s < %s', (smaller, greater) => {
    // Act & Assess
    expect(compareNatural(smaller, greater)).toBeLessThan(0);
    expect(compareNatural(greater, smaller)).toBeGreaterThan(0);
  });

  it('is 0 only for equal names', () => {
    // Act & Assess
    expect(compareNatural('b-10', 'b-10')).toBe(0);
    expect(compareNatural('b-010', 'b-10')).not.toBe(0);
  });
});

describe('Function: planCleanup', () => {
  describe('Feature: order: natural', () => {
    it('ranks names with embedded numbers as numbers, reading no age', () => {
      // Prepare
      const inventory = inventoryOf('app', [
        tagRecord('b-9', digestOf(1)),
        tagRecord('b-10', digestOf(2)),
        tagRecord('b-11', digestOf(3)),
        tagRecord('b-2', digestOf(4)),
      ]);

      // Act & Assess
      expect(decisions(inventory, [{ name: 'builds', order: 'natural', keep: 2 }])).toEqual([
        ['b-10', 'keep', 'newest 2 by natural order (#2)'],
        ['b-11', 'keep', 'newest 2 by natural order (#1)'],
        ['b-2', 'delete', 'beyond keep=2 (#4)'],
        ['b-9', 'delete', 'beyond keep=2 (#3)'],
      ]);
    });

    it('ranks dotted calendar versions per stream', () => {
      // Prepare
      const inventory = inventoryOf('app', [
        tagRecord('2024.3.1-2', digestOf(1), 1),
        tagRecord('2024.3.10-1', digestOf(2), 30),
        tagRecord('2024.3.9-7', digestOf(3), 2),
      ]);

      // Act & Assess
      expect(
        decisions(inventory, [{ name: 'calendar', order: 'natural', groupBy: '(\\d+)\\..*', keep: 1 }]),
      ).toEqual([
        ['2024.3.1-2', 'delete', "beyond keep=1 in stream '2024' (#3)"],
        ['2024.3.10-1', 'keep', "newest 1 by natural order in stream '2024' (#1)"],
        ['2024.3.9-7', 'delete', "beyond keep=1 in stream '2024' (#2)"],
      ]);
    });

    it('still applies olderThan by created, with unknown ages never old', () => {
      // Prepare
      const inventory = inventoryOf('app', [
        tagRecord('b-3', digestOf(1), 10),
        tagRecord('b-2', digestOf(2)),
        tagRecord('b-1', digestOf(3), 20),
      ]);

      // Act & Assess
      expect(decisions(inventory, [{ name: 'builds', order: 'natural', keep: 1, olderThan: '7d' }])).toEqual([
        ['b-1', 'delete', 'beyond keep=1 (#3) and 20d old > 7d'],
        ['b-2', 'keep', 'beyond keep=1 (#2) but age unknown: never old'],
        ['b-3', 'keep', 'newest 1 by natural order (#1)'],
      ]);
    });
  });

  describe('Feature: order: pushed', () => {
    it('ranks by the last push, falling back to created for tags never seen pushed, and says which', () => {
      // Prepare
      const inventory = inventoryOf('app', [
        { ...ledgerRecord('n-1', digestOf(1), undefined, { pushed: 1 }), created: new Date(0) },
        ledgerRecord('n-2', digestOf(2), 3, {}),
        ledgerRecord('n-3', digestOf(3), 1, { pushed: 10 }),
        ledgerRecord('n-4', digestOf(4), 20, {}),
      ]);

      // Act & Assess
      expect(decisions(inventory, [{ name: 'nightly', order: 'pushed', keep: 2 }])).toEqual([
        ['n-1', 'keep', 'newest 2 by push time (#1, pushed 1d ago)'],
        ['n-2', 'keep', 'newest 2 by push time (#2, never seen pushed, created 3d ago)'],
        ['n-3', 'delete', 'beyond keep=2 (#3, pushed 10d ago)'],
        ['n-4', 'delete', 'beyond keep=2 (#4, never seen pushed, created 20d ago)'],
      ]);
    });

    it('never removes a tag with neither push time nor created by rank', () => {
      // Prepare
      const inventory = inventoryOf('app', [ledgerRecord('n-1', digestOf(1), undefined, { pulled: 1 })]);

      // Act & Assess
      expect(decisions(inventory, [{ name: 'nightly', order: 'pushed', keep: 0 }])).toEqual([
        ['n-1', 'keep', 'beyond keep=0 (#1) but never seen pushed and age unknown: never old'],
      ]);
    });

    it('applies olderThan to the same age it ranks by', () => {
      // Prepare
      const inventory = inventoryOf('app', [
        ledgerRecord('p-new', digestOf(1), 30, { pushed: 2 }),
        ledgerRecord('p-old', digestOf(2), 1, { pushed: 10 }),
        ledgerRecord('p-unknown', digestOf(3), undefined, {}),
        ledgerRecord('p-unseen', digestOf(4), 30, {}),
      ]);

      // Act & Assess
      expect(decisions(inventory, [{ name: 'nightly', order: 'pushed', olderThan: '7d' }])).toEqual([
        ['p-new', 'keep', 'younger than 7d (pushed 2d ago)'],
        ['p-old', 'delete', 'pushed 10d ago > 7d'],
        ['p-unknown', 'keep', 'never seen pushed and age unknown: never old'],
        ['p-unseen', 'delete', 'never seen pushed, created 30d ago > 7d'],
      ]);
      expect(decisions(inventory, [{ name: 'nightly', order: 'pushed', keep: 1, olderThan: '7d' }])).toEqual([
        ['p-new', 'keep', 'beyond keep=1 (#2) but younger than 7d (pushed 2d ago)'],
        ['p-old', 'delete', 'beyond keep=1 (#3) and pushed 10d ago > 7d'],
        ['p-unknown', 'keep', 'newest 1 by push time (#1)'],
        ['p-unseen', 'delete', 'beyond keep=1 (#4) and never seen pushed, created 30d ago > 7d'],
      ]);
    });
  });

  describe('Feature: an unknown created falls back to the push time', () => {
    const inventory = inventoryOf('app', [
      { ...ledgerRecord('a', digestOf(1), undefined, { pushed: 2 }), created: new Date(0) },
      ledgerRecord('b', digestOf(2), 5, { pushed: 1 }),
      ledgerRecord('c', digestOf(3), undefined, { pushed: 10 }),
      ledgerRecord('d', digestOf(4), undefined, {}),
    ]);

    it('ranks by it under order: created, and says so', () => {
      // Act & Assess
      expect(decisions(inventory, [{ name: 'builds', keep: 1 }])).toEqual([
        ['a', 'delete', 'beyond keep=1 (#2, created unknown, pushed 2d ago)'],
        ['b', 'delete', 'beyond keep=1 (#3)'],
        ['c', 'delete', 'beyond keep=1 (#4, created unknown, pushed 10d ago)'],
        ['d', 'keep', 'newest 1 (#1)'],
      ]);
    });

    it('ages by it for olderThan, while the plan still shows created as unknown', () => {
      // Act
      const tags = tagsByName(planCleanup(inventory, compilePolicy({ rules: [{ olderThan: '7d' }] }), NOW));

      // Assess
      expect(tags.get('a')).toMatchObject({
        action: 'keep',
        reason: 'younger than 7d (created unknown, pushed 2d ago)',
        created: null,
      });
      expect(tags.get('c')).toMatchObject({
        action: 'delete',
        reason: 'created unknown, pushed 10d ago > 7d',
        created: null,
      });
      expect(tags.get('d')).toMatchObject({ action: 'keep', reason: 'age unknown: never old' });
    });

    it('ages by it under order: semver too', () => {
      // Prepare
      const releases = inventoryOf('app', [
        { ...ledgerRecord('1.0.0', digestOf(1), undefined, { pushed: 8 }), created: new Date(0) },
      ]);

      // Act & Assess
      expect(decisions(releases, [{ name: 'r', order: 'semver', keep: 0, olderThan: '7d' }])).toEqual([
        ['1.0.0', 'delete', 'beyond keep=0 (#1) and created unknown, pushed 8d ago > 7d'],
      ]);
    });
  });

  describe('Feature: keepPulledWithin', () => {
    it('keeps a candidate pulled within the duration, saying when and what it would have been', () => {
      // Prepare
      const inventory = inventoryOf('app', [
        ledgerRecord('pr-1', digestOf(1), 20, { pulled: 3 }),
        ledgerRecord('pr-2', digestOf(2), 25, { pulled: 40 }),
        ledgerRecord('pr-3', digestOf(3), 30, {}),
        ledgerRecord('pr-4', digestOf(4), 2, { pulled: 1 }),
      ]);

      // Act & Assess
      expect(decisions(inventory, [{ name: 'prs', olderThan: '7d', keepPulledWithin: '30d' }])).toEqual([
        ['pr-1', 'keep', 'pulled 3d ago (within keepPulledWithin 30d), although 20d old > 7d'],
        ['pr-2', 'delete', '25d old > 7d'],
        ['pr-3', 'delete', '30d old > 7d'],
        ['pr-4', 'keep', 'younger than 7d (2d old)'],
      ]);
    });

    it('keeps a pulled build in addition to the newest N: it takes no keep slot', () => {
      // Prepare
      const inventory = inventoryOf('app', [
        ledgerRecord('build-1', digestOf(1), 5, {}),
        ledgerRecord('build-2', digestOf(2), 4, { pulled: 1 }),
        ledgerRecord('build-3', digestOf(3), 3, {}),
        ledgerRecord('build-4', digestOf(4), 2, {}),
        ledgerRecord('build-5', digestOf(5), 1, {}),
      ]);

      // Act & Assess
      expect(decisions(inventory, [{ name: 'builds', keep: 2, keepPulledWithin: '7d' }])).toEqual([
        ['build-1', 'delete', 'beyond keep=2 (#5)'],
        ['build-2', 'keep', 'pulled 1d ago (within keepPulledWithin 7d), although beyond keep=2 (#4)'],
        ['build-3', 'delete', 'beyond keep=2 (#3)'],
        ['build-4', 'keep', 'newest 2 (#2)'],
        ['build-5', 'keep', 'newest 2 (#1)'],
      ]);
    });

    it('counts a pull exactly keepPulledWithin ago as within, one second more as not', () => {
      // Prepare
      const inventory = inventoryOf('app', [
        { ...tagRecord('at-limit', digestOf(1), 60), pulledAt: new Date(NOW.getTime() - 30 * DAY_MS) },
        {
          ...tagRecord('past-limit', digestOf(2), 60),
          pulledAt: new Date(NOW.getTime() - 30 * DAY_MS - 1000),
        },
        { ...tagRecord('skewed', digestOf(3), 60), pulledAt: new Date(NOW.getTime() + HOUR_MS) },
        { ...tagRecord('epoch', digestOf(4), 60), pulledAt: new Date(0) },
      ]);

      // Act & Assess
      expect(decisions(inventory, [{ name: 'old', olderThan: '7d', keepPulledWithin: '30d' }])).toEqual([
        ['at-limit', 'keep', 'pulled 30d ago (within keepPulledWithin 30d), although 60d old > 7d'],
        ['epoch', 'delete', '60d old > 7d'],
        ['past-limit', 'delete', '60d old > 7d'],
        ['skewed', 'keep', 'pulled 1h in the future (within keepPulledWithin 30d), although 60d old > 7d'],
      ]);
    });

    it('holds the digest for the other tags on it, like any kept tag', () => {
      // Prepare
      const inventory = inventoryOf('app', [
        ledgerRecord('pr-1', digestOf(1), 20, { pulled: 1 }),
        ledgerRecord('scratch-1', digestOf(1), 20, { pulled: 1 }),
      ]);

      // Act
      const tags = tagsByName(
        planCleanup(
          inventory,
          compilePolicy({
            rules: [
              { name: 'prs', tags: 'pr-.*', olderThan: '7d', keepPulledWithin: '30d' },
              { name: 'scratch', olderThan: '7d' },
            ],
          }),
          NOW,
        ),
      );

      // Assess
      expect(tags.get('pr-1')?.action).toBe('keep');
      expect(tags.get('scratch-1')).toMatchObject({
        action: 'untag',
        reason: "20d old > 7d; digest also held by kept tag 'pr-1': untag only",
      });
    });

    it('is ignored by a rule that removes nothing anyway', () => {
      // Prepare
      const inventory = inventoryOf('app', [ledgerRecord('a', digestOf(1), 20, { pulled: 1 })]);

      // Act & Assess
      expect(decisions(inventory, [{ name: 'r', keepPulledWithin: '30d' }])).toEqual([
        ['a', 'keep', 'rule sets neither keep nor olderThan'],
      ]);
    });
  });

  describe('Feature: pushedAt and pulledAt in the plan', () => {
    const inventory: Inventory = {
      registry: 'http://127.0.0.1:5000',
      repositories: [
        {
          name: 'app',
          tags: [
            ledgerRecord('seen', digestOf(1), 20, { pushed: 2, pulled: 1 }),
            { ...ledgerRecord('epoch', digestOf(2), 20, {}), pushedAt: new Date(0) },
            tagRecord('unseen', digestOf(3), 30),
          ],
          dangling: [{ tag: 'gone', digest: digestOf(9) }],
        },
      ],
    };
    const policy = compilePolicy({ rules: [{ name: 'old', olderThan: '7d' }] });

    it('leaves both out of a plan made without a ledger', () => {
      // Act
      const plan = planCleanup(inventory, policy, NOW);

      // Assess
      for (const tag of plan.repositories[0]?.tags ?? []) {
        expect(tag).not.toHaveProperty('pushedAt');
        expect(tag).not.toHaveProperty('pulledAt');
      }
    });

    it('puts both, ISO or null, on every tag of a plan made with one, after created', () => {
      // Act
      const plan = planCleanup(inventory, policy, NOW, { ledger: true });

      // Assess
      const tags = tagsByName(plan);
      const times = (tag: PlannedTag | undefined) => [tag?.pushedAt, tag?.pulledAt];
      expect(times(tags.get('seen'))).toEqual(['2026-11-26T00:00:00.000Z', '2026-11-27T00:00:00.000Z']);
      expect(times(tags.get('epoch'))).toEqual([null, null]);
      expect(times(tags.get('unseen'))).toEqual([null, null]);
      expect(times(tags.get('gone'))).toEqual([null, null]);
      expect(Object.keys(tags.get('seen') as PlannedTag)).toEqual([
        'tag',
        'digest',
        'mediaType',
        'created',
        'pushedAt',
        'pulledAt',
        'action',
        'rule',
        'reason',
      ]);
    });

    it('changes no decision: only the two fields differ', () => {
      // Act
      const without = planCleanup(inventory, policy, NOW);
      const withLedger = planCleanup(inventory, policy, NOW, { ledger: true });

      // Assess
      const strip = ({ pushedAt: _pushed, pulledAt: _pulled, ...rest }: PlannedTag) => rest;
      expect(withLedger.repositories[0]?.tags.map(strip)).toEqual(without.repositories[0]?.tags);
      expect(withLedger.summary).toEqual(without.summary);
    });
  });
});
