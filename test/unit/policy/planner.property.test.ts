import fc from 'fast-check';
import type { Digest, Inventory, Plan, PlannedTag, TagRecord } from '../../../lambda/domain';
import { compilePolicy, planCleanup, referrerSubject, type Policy } from '../../../lambda/policy';
import { DAY_MS, digestOf, NOW, referrerTagOf } from './builders';

// Few digests, so that tags share them; referrer tags name digests of the same pool.
const DIGESTS: Digest[] = Array.from({ length: 8 }, (_, index) => digestOf(`d${index}`));

const hex7 = fc.stringMatching(/^[0-9a-f]{7}$/);
const tagName = fc.oneof(
  fc.tuple(fc.constantFrom('main', 'develop', 'feature-x'), hex7).map(([branch, sha]) => `${branch}-${sha}`),
  fc.tuple(fc.nat(30), fc.constantFrom('a', 'b-keep')).map(([pr, suffix]) => `pr-${pr}-${suffix}`),
  fc
    .tuple(fc.boolean(), fc.nat(3), fc.nat(3), fc.nat(3))
    .map(([v, a, b, c]) => `${v ? 'v' : ''}${a}.${b}.${c}`),
  fc.tuple(fc.nat(3), fc.nat(3)).map(([a, b]) => `${a}.${b}.0-rc.${b}`),
  fc.constantFrom('latest', 'nightly', '1.2', 'release-1', 'release-2'),
  fc
    .tuple(
      fc.constantFrom(...DIGESTS),
      fc.constantFrom('sig', 'att', 'sbom') as fc.Arbitrary<'sig' | 'att' | 'sbom'>,
    )
    .map(([subject, kind]) => referrerTagOf(subject, kind)),
);

// Ages from 60 days ago to one day in the future, or unknown.
const created = fc.option(
  fc.integer({ min: -60 * DAY_MS, max: DAY_MS }).map((offset) => new Date(NOW.getTime() + offset)),
  { nil: undefined },
);

const tagRecord: fc.Arbitrary<TagRecord> = fc
  .record({ tag: tagName, digest: fc.constantFrom(...DIGESTS), created })
  .map(({ tag, digest, created: date }) => ({ tag, digest, mediaType: 'x', ...(date && { created: date }) }));

const inventory: fc.Arbitrary<Inventory> = fc
  .uniqueArray(fc.constantFrom('apps/web', 'apps/api', 'tools'), { minLength: 1, maxLength: 3 })
  .chain((names) =>
    fc.tuple(
      ...names.map((name) =>
        fc
          .uniqueArray(tagRecord, { selector: (record) => record.tag, maxLength: 30 })
          .map((tags) => ({ name, tags })),
      ),
    ),
  )
  .map((repositories) => ({ registry: 'http://127.0.0.1:5000', repositories }));

const rule = fc.record(
  {
    repositories: fc.constantFrom(['**'], ['apps/**'], ['tools']),
    tags: fc.constantFrom(
      'main-.*',
      '(main|develop)-[0-9a-f]{7}',
      'pr-\\d+-.*',
      'v?\\d+\\.\\d+\\.\\d+(-rc\\.\\d+)?',
      '.*',
    ),
    exclude: fc.constantFrom('.*-keep', 'develop-.*'),
    groupBy: fc.constantFrom('(.+)-[0-9a-f]{7}', '(pr-\\d+)-.*', 'v?(\\d+)\\..*'),
    order: fc.constantFrom('created', 'semver'),
    keep: fc.nat(4),
    olderThan: fc.constantFrom('1d', '7d', '14d', '30d'),
  },
  { requiredKeys: [] },
);

const policy: fc.Arbitrary<Policy> = fc
  .record({
    protect: fc.subarray(['latest', 'v?\\d+\\.\\d+\\.\\d+', 'release-1']),
    rules: fc.array(rule, { minLength: 1, maxLength: 4 }),
  })
  .map(({ protect, rules }) =>
    compilePolicy({ protect, rules: rules.map((entry, index) => ({ name: `r${index}`, ...entry })) }),
  );

const untagSupported = fc.boolean();

function plannedTags(plan: Plan): Array<[string, PlannedTag]> {
  return plan.repositories.flatMap((repository) =>
    repository.tags.map((tag): [string, PlannedTag] => [repository.name, tag]),
  );
}

/** Tags that follow a subject digest tagged (by another tag) in their repository: decided by the subject, not by a rule. */
function followsSubject(plan: Plan, repositoryName: string, tag: PlannedTag): boolean {
  const subject = referrerSubject(tag.tag);
  const repository = plan.repositories.find((entry) => entry.name === repositoryName);
  return (
    subject !== undefined &&
    (repository?.tags.some((other) => other !== tag && other.digest === subject) ?? false)
  );
}

/** A deterministic Fisher-Yates shuffle driven by a seed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const result = [...items];
  let state = seed || 1;
  for (let index = result.length - 1; index > 0; index -= 1) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    const other = state % (index + 1);
    [result[index], result[other]] = [result[other] as T, result[index] as T];
  }
  return result;
}

describe('Function: planCleanup (properties)', () => {
  it('never removes a protected tag', () => {
    fc.assert(
      fc.property(inventory, policy, untagSupported, (input, compiled, untag) => {
        // Act
        const plan = planCleanup(input, compiled, NOW, { untagSupported: untag });

        // Assess
        for (const [, tag] of plannedTags(plan)) {
          const protector = compiled.protect.find((pattern) => pattern.regex.test(tag.tag));
          if (protector) expect(tag).toMatchObject({ action: 'keep', rule: 'protect' });
        }
      }),
    );
  });

  it('never deletes a digest that a kept tag holds, and untags only where one does', () => {
    fc.assert(
      fc.property(inventory, policy, untagSupported, (input, compiled, untag) => {
        // Act
        const plan = planCleanup(input, compiled, NOW, { untagSupported: untag });

        // Assess
        for (const repository of plan.repositories) {
          const keptDigests = new Set(
            repository.tags.filter((tag) => tag.action === 'keep').map((tag) => tag.digest),
          );
          for (const tag of repository.tags) {
            if (tag.action === 'delete') expect(keptDigests.has(tag.digest)).toBe(false);
            if (tag.action === 'untag') expect(keptDigests.has(tag.digest)).toBe(true);
            if (tag.action === 'untag') expect(untag).toBe(true);
            if (tag.shared) expect(tag.action).toBe('keep');
          }
        }
      }),
    );
  });

  it('never removes a tag of unknown age by age, nor by rank under order: created', () => {
    fc.assert(
      fc.property(inventory, policy, (input, compiled) => {
        // Act
        const plan = planCleanup(input, compiled, NOW);

        // Assess
        const rules = new Map(compiled.document.rules.map((entry) => [entry.name, entry]));
        for (const [repositoryName, tag] of plannedTags(plan)) {
          if (tag.created !== null || followsSubject(plan, repositoryName, tag)) continue;
          const decidedBy = tag.rule === null ? undefined : rules.get(tag.rule);
          if (decidedBy && (decidedBy.olderThan !== undefined || decidedBy.order === 'created')) {
            expect(tag.action).toBe('keep');
          }
        }
      }),
    );
  });

  it('leaves at least min(keep, stream size) candidates of every stream', () => {
    fc.assert(
      fc.property(inventory, policy, untagSupported, (input, compiled, untag) => {
        // Act
        const plan = planCleanup(input, compiled, NOW, { untagSupported: untag });

        // Assess
        for (const rule of compiled.rules) {
          if (rule.keep === undefined) continue;
          for (const repository of plan.repositories) {
            const streams = new Map<string, PlannedTag[]>();
            for (const tag of repository.tags) {
              if (tag.rule !== rule.name || followsSubject(plan, repository.name, tag)) continue;
              const stream = rule.groupBy ? rule.groupBy.exec(tag.tag)?.[1] : '';
              if (stream === undefined) continue;
              streams.set(stream, [...(streams.get(stream) ?? []), tag]);
            }
            for (const tags of streams.values()) {
              const kept = tags.filter((tag) => tag.action === 'keep').length;
              expect(kept).toBeGreaterThanOrEqual(Math.min(rule.keep, tags.length));
            }
          }
        }
      }),
    );
  });

  it('plans every tag exactly once, with a summary that adds up', () => {
    fc.assert(
      fc.property(inventory, policy, (input, compiled) => {
        // Act
        const plan = planCleanup(input, compiled, NOW);

        // Assess
        const planned = plannedTags(plan).map(([repository, tag]) => `${repository}:${tag.tag}`);
        const given = input.repositories.flatMap((repository) =>
          repository.tags.map((tag) => `${repository.name}:${tag.tag}`),
        );
        expect([...planned].sort()).toEqual([...given].sort());
        expect(plan.summary.keep + plan.summary.delete + plan.summary.untag).toBe(plan.summary.tags);
        expect(plan.summary.tags).toBe(given.length);
      }),
    );
  });

  it('is deterministic and independent of the order of repositories and tags', () => {
    fc.assert(
      fc.property(inventory, policy, untagSupported, fc.nat(), (input, compiled, untag, seed) => {
        // Prepare
        const reordered: Inventory = {
          registry: input.registry,
          repositories: shuffled(input.repositories, seed).map((repository, index) => ({
            name: repository.name,
            tags: shuffled(repository.tags, seed + index + 1),
          })),
        };

        // Act
        const first = planCleanup(input, compiled, NOW, { untagSupported: untag });
        const again = planCleanup(input, compiled, NOW, { untagSupported: untag });
        const fromReordered = planCleanup(reordered, compiled, NOW, { untagSupported: untag });

        // Assess
        expect(again).toEqual(first);
        expect(fromReordered).toEqual(first);
      }),
    );
  });
});
