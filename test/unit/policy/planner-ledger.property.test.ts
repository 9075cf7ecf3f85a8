import fc from 'fast-check';
import type { Digest, Inventory, Plan, PlannedTag, TagRecord } from '../../../lambda/domain';
import { compareNatural, compilePolicy, planCleanup, type RuleDocument } from '../../../lambda/policy';
import { DAY_MS, digestOf, NOW } from './builders';

// Few digests, so that tags share them.
const DIGESTS: Digest[] = Array.from({ length: 8 }, (_, index) => digestOf(`d${index}`));

const hex7 = fc.stringMatching(/^[0-9a-f]{7}$/);
const tagName = fc.oneof(
  fc.tuple(fc.constantFrom('b', 'build', 'nightly'), fc.nat(120)).map(([prefix, n]) => `${prefix}-${n}`),
  fc.tuple(fc.constantFrom('main', 'develop'), hex7).map(([branch, sha]) => `${branch}-${sha}`),
  fc.tuple(fc.nat(12), fc.nat(31), fc.nat(9)).map(([month, day, build]) => `2024.${month}.${day}-${build}`),
  fc
    .tuple(fc.boolean(), fc.nat(3), fc.nat(12))
    .map(([v, minor, patch]) => `${v ? 'v' : ''}1.${minor}.${patch}`),
  fc.constantFrom('latest', 'nightly'),
);

// From 60 days ago to one day in the future; or unknown.
const time = fc.option(
  fc.integer({ min: -60 * DAY_MS, max: DAY_MS }).map((offset) => new Date(NOW.getTime() + offset)),
  { nil: undefined },
);
// Reproducible builds say 1970.
const created = fc.oneof(time, fc.constant(new Date(0)));

interface Times {
  created: Date | undefined;
  pushedAt: Date | undefined;
  pulledAt: Date | undefined;
}

function recordOf(tag: string, digest: Digest, times: Times): TagRecord {
  return {
    tag,
    digest,
    mediaType: 'x',
    ...(times.created && { created: times.created }),
    ...(times.pushedAt && { pushedAt: times.pushedAt }),
    ...(times.pulledAt && { pulledAt: times.pulledAt }),
  };
}

const tagRecord: fc.Arbitrary<TagRecord> = fc
  .record({ tag: tagName, digest: fc.constantFrom(...DIGESTS), created, pushedAt: time, pulledAt: time })
  .map(({ tag, digest, ...times }) => recordOf(tag, digest, times));

function inventoryOf(records: fc.Arbitrary<TagRecord>): fc.Arbitrary<Inventory> {
  return fc
    .uniqueArray(fc.constantFrom('apps/web', 'tools'), { minLength: 1, maxLength: 2 })
    .chain((names) =>
      fc.tuple(
        ...names.map((name) =>
          fc
            .uniqueArray(records, { selector: (record) => record.tag, maxLength: 30 })
            .map((tags) => ({ name, tags })),
        ),
      ),
    )
    .map((repositories) => ({ registry: 'http://127.0.0.1:5000', repositories }));
}

const inventory = inventoryOf(tagRecord);

type RawRule = Partial<Omit<RuleDocument, 'name'>>;

function ruleOf(orders: readonly string[], withPulls: boolean): fc.Arbitrary<RawRule> {
  return fc.record(
    {
      repositories: fc.constantFrom(['**'], ['apps/**']),
      tags: fc.constantFrom('b-.*', '(main|develop)-[0-9a-f]{7}', '2024\\..*', 'v?1\\..*', '.*'),
      groupBy: fc.constantFrom('(.+)-[0-9a-f]{7}', '([a-z]+)-.*', '(\\d+)\\..*'),
      order: fc.constantFrom(...orders) as fc.Arbitrary<RuleDocument['order']>,
      keep: fc.nat(4),
      olderThan: fc.constantFrom('1d', '7d', '30d'),
      ...(withPulls && { keepPulledWithin: fc.constantFrom('1d', '7d', '30d') }),
    },
    { requiredKeys: [] },
  );
}

const ALL_ORDERS = ['created', 'semver', 'natural', 'pushed'];
const TODAYS_ORDERS = ['created', 'semver', 'natural'];

function named(rules: readonly RawRule[]): Array<RawRule & { name: string }> {
  return rules.map((rule, index) => ({ name: `r${index}`, ...rule }));
}

const rules = fc.array(ruleOf(ALL_ORDERS, true), { minLength: 1, maxLength: 3 });

/** The record without what the ledger said. */
function withoutLedger({ pushedAt: _pushed, pulledAt: _pulled, ...record }: TagRecord): TagRecord {
  return record;
}

function stripInventory(input: Inventory): Inventory {
  return {
    registry: input.registry,
    repositories: input.repositories.map((repository) => ({
      name: repository.name,
      tags: repository.tags.map(withoutLedger),
    })),
  };
}

function plannedTags(plan: Plan): PlannedTag[] {
  return plan.repositories.flatMap((repository) => repository.tags);
}

function byKey(plan: Plan): Map<string, PlannedTag> {
  return new Map(
    plan.repositories.flatMap((repository) =>
      repository.tags.map((tag): [string, PlannedTag] => [`${repository.name}:${tag.tag}`, tag]),
    ),
  );
}

describe('Function: planCleanup with ledger data (properties)', () => {
  it('without ledger data or a ledger, plans as before: no new fields, ledger features act as today', () => {
    fc.assert(
      fc.property(inventory, rules, (input, raw) => {
        // Prepare: no ledger data; the same rules with their ledger features taken out.
        const stripped = stripInventory(input);
        const today = raw.map(({ keepPulledWithin: _pulls, ...rule }) => ({
          ...rule,
          ...(rule.order === 'pushed' && { order: 'created' as const }),
        }));

        // Act
        const plan = planCleanup(stripped, compilePolicy({ rules: named(raw) }), NOW);
        const todays = planCleanup(stripped, compilePolicy({ rules: named(today) }), NOW);

        // Assess
        for (const tag of plannedTags(plan)) {
          expect(tag).not.toHaveProperty('pushedAt');
          expect(tag).not.toHaveProperty('pulledAt');
        }
        expect(plannedTags(plan).map((tag) => tag.action)).toEqual(
          plannedTags(todays).map((tag) => tag.action),
        );
        expect(plan.summary).toEqual(todays.summary);
      }),
    );
  });

  it("ledger data changes no decision of today's policies on tags of known age", () => {
    const dated = fc
      .record({
        tag: tagName,
        digest: fc.constantFrom(...DIGESTS),
        created: fc
          .integer({ min: -60 * DAY_MS, max: DAY_MS })
          .map((offset) => new Date(NOW.getTime() + offset)),
        pushedAt: time,
        pulledAt: time,
      })
      .map(({ tag, digest, ...times }) => recordOf(tag, digest, times));
    const todaysRules = fc.array(ruleOf(TODAYS_ORDERS, false), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(inventoryOf(dated), todaysRules, (input, raw) => {
        // Prepare
        const policy = compilePolicy({ rules: named(raw) });

        // Act
        const withData = planCleanup(input, policy, NOW);
        const withoutData = planCleanup(stripInventory(input), policy, NOW);

        // Assess
        expect(withData).toEqual(withoutData);
      }),
    );
  });

  it('with a ledger, adds pushedAt and pulledAt (ISO or null) and nothing else', () => {
    fc.assert(
      fc.property(inventory, rules, (input, raw) => {
        // Prepare
        const policy = compilePolicy({ rules: named(raw) });

        // Act
        const without = planCleanup(input, policy, NOW);
        const withLedger = planCleanup(input, policy, NOW, { ledger: true });

        // Assess
        const records = new Map(
          input.repositories.flatMap((repository) =>
            repository.tags.map((record): [string, TagRecord] => [
              `${repository.name}:${record.tag}`,
              record,
            ]),
          ),
        );
        const expected = [...byKey(without)].map(([key, tag]) => {
          const record = records.get(key) as TagRecord;
          const iso = (date: Date | undefined) => (date && date.getTime() !== 0 ? date.toISOString() : null);
          return { ...tag, pushedAt: iso(record.pushedAt), pulledAt: iso(record.pulledAt) };
        });
        expect([...byKey(withLedger).values()]).toEqual(expected);
      }),
    );
  });

  it('keepPulledWithin only adds keeps, and never moves the newest N', () => {
    const durations = fc.array(fc.constantFrom('1d', '7d', '30d'), { minLength: 3, maxLength: 3 });
    const withoutPulls = fc.array(ruleOf(ALL_ORDERS, false), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(inventory, withoutPulls, durations, fc.boolean(), (input, raw, within, untag) => {
        // Prepare
        const before = compilePolicy({ rules: named(raw) });
        const after = compilePolicy({
          rules: named(raw.map((rule, index) => ({ ...rule, keepPulledWithin: within[index] as string }))),
        });

        // Act
        const planBefore = byKey(planCleanup(input, before, NOW, { untagSupported: untag }));
        const planAfter = byKey(planCleanup(input, after, NOW, { untagSupported: untag }));

        // Assess
        for (const [key, tagBefore] of planBefore) {
          const tagAfter = planAfter.get(key) as PlannedTag;
          if (tagBefore.action === 'keep') expect(tagAfter.action).toBe('keep');
          if (tagAfter.action !== 'keep') expect(tagBefore.action).not.toBe('keep');
          // The rank-kept tags are the same: a pulled build takes no keep slot.
          expect(tagAfter.reason.startsWith('newest ')).toBe(tagBefore.reason.startsWith('newest '));
          if (tagAfter.reason.startsWith('pulled ')) {
            // It was a removal before (or kept only as shared, where untag is impossible).
            expect(tagAfter.action).toBe('keep');
            expect(tagBefore.action !== 'keep' || tagBefore.shared === true).toBe(true);
          }
        }
        // Only pulls add keeps: a tag kept now and removed before was pulled, or shares a
        // digest with one that was (held, it is kept as shared, or untagged instead of deleted).
        for (const [key, tagAfter] of planAfter) {
          const tagBefore = planBefore.get(key) as PlannedTag;
          if (tagAfter.action === 'keep' && tagBefore.action !== 'keep')
            expect(tagAfter.reason.startsWith('pulled ') || tagAfter.shared === true).toBe(true);
        }
      }),
    );
  });

  it('keeps, under order: natural, the greatest names of each stream', () => {
    const naturalRule = ruleOf(['natural'], true).map((rule) => ({
      ...rule,
      order: 'natural' as const,
      keep: rule.keep ?? 2,
    }));
    fc.assert(
      fc.property(inventory, naturalRule, (input, raw) => {
        // Prepare
        const policy = compilePolicy({ rules: [{ name: 'n', ...raw }] });
        const rule = policy.rules[0];

        // Act
        const plan = planCleanup(input, policy, NOW);

        // Assess: within a stream, every rank-kept name is greater than every name beyond keep.
        for (const repository of plan.repositories) {
          const streams = new Map<string, { newest: string[]; beyond: string[] }>();
          for (const tag of repository.tags) {
            if (tag.rule !== 'n') continue;
            const stream = rule?.groupBy ? rule.groupBy.exec(tag.tag)?.[1] : '';
            if (stream === undefined) continue;
            const entry = streams.get(stream) ?? { newest: [], beyond: [] };
            if (tag.reason.startsWith('newest ')) entry.newest.push(tag.tag);
            else if (tag.reason.includes('beyond keep=')) entry.beyond.push(tag.tag);
            streams.set(stream, entry);
          }
          for (const { newest, beyond } of streams.values()) {
            for (const kept of newest)
              for (const other of beyond) expect(compareNatural(kept, other)).toBeGreaterThan(0);
          }
        }
      }),
    );
  });

  it('never deletes a digest a kept tag holds, and is deterministic, with ledger data and features', () => {
    fc.assert(
      fc.property(inventory, rules, fc.boolean(), (input, raw, untag) => {
        // Prepare
        const policy = compilePolicy({ rules: named(raw) });

        // Act
        const plan = planCleanup(input, policy, NOW, { untagSupported: untag, ledger: true });
        const again = planCleanup(
          { registry: input.registry, repositories: [...input.repositories].reverse() },
          policy,
          NOW,
          { untagSupported: untag, ledger: true },
        );

        // Assess
        for (const repository of plan.repositories) {
          const kept = new Set(
            repository.tags.filter((tag) => tag.action === 'keep').map((tag) => tag.digest),
          );
          for (const tag of repository.tags)
            if (tag.action === 'delete') expect(kept.has(tag.digest)).toBe(false);
        }
        expect(again).toEqual(plan);
      }),
    );
  });

  it('never removes a tag with neither a known created nor a push time by age or by age rank', () => {
    fc.assert(
      fc.property(inventory, rules, (input, raw) => {
        // Prepare
        const policy = compilePolicy({ rules: named(raw) });

        // Act
        const plan = planCleanup(input, policy, NOW, { ledger: true });

        // Assess
        const documents = new Map(policy.document.rules.map((rule) => [rule.name, rule]));
        for (const tag of plannedTags(plan)) {
          if (tag.created !== null || tag.pushedAt !== null) continue;
          const rule = tag.rule === null ? undefined : documents.get(tag.rule);
          if (rule && (rule.olderThan !== undefined || rule.order === 'created' || rule.order === 'pushed'))
            expect(tag.action).toBe('keep');
        }
      }),
    );
  });
});
