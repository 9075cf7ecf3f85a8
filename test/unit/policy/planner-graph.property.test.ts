import fc from 'fast-check';
import type {
  DanglingTag,
  Digest,
  IndexRecord,
  Inventory,
  Plan,
  ReferrerRecord,
  RepositoryInventory,
  TagRecord,
} from '../../../lambda/domain';
import { MediaType } from '../../../lambda/domain';
import { compilePolicy, planCleanup, referrerSubject, type Policy } from '../../../lambda/policy';
import { DAY_MS, digestOf, NOW, referrerTagOf } from './builders';

/*
 * The planner over the shapes of issue 10: indexes listing indexes (several depths, shared
 * children, untagged inner ones, the odd loop), referrer tags of both schemas, tagged artifacts
 * whose manifest has a `subject`, orphan subjects and dangling tags.
 */

// Digest pools: images (builds), indexes (tagged or not), artifacts (SBOMs, signatures).
const IMAGES: Digest[] = Array.from({ length: 6 }, (_, index) => digestOf(`1${index}`));
const INDEXES: Digest[] = Array.from({ length: 6 }, (_, index) => digestOf(`2${index}`));
const ARTIFACTS: Digest[] = Array.from({ length: 5 }, (_, index) => digestOf(`3${index}`));
/** Referrer indexes (`sha256-<hex>` tags): each lists artifacts. */
const REFERRER_INDEXES: Digest[] = Array.from({ length: 3 }, (_, index) => digestOf(`4${index}`));
/** Subjects no tag or index reaches: stored untagged, or gone (absentSubjects). */
const ELSEWHERE: Digest[] = [digestOf('50'), digestOf('51')];
const SUBJECTS: Digest[] = [...IMAGES, ...INDEXES, ...ELSEWHERE];

const created = fc.option(
  fc.integer({ min: -60 * DAY_MS, max: DAY_MS }).map((offset) => new Date(NOW.getTime() + offset)),
  { nil: undefined },
);

/** Children of every index: index k lists images and mostly deeper indexes (k+1..), sometimes any. */
const indexGraph: fc.Arbitrary<Map<Digest, Digest[]>> = fc
  .tuple(
    ...INDEXES.map((_, k) =>
      fc.uniqueArray(
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...IMAGES) },
          {
            weight: 3,
            arbitrary: fc.constantFrom(...(INDEXES.slice(k + 1).length ? INDEXES.slice(k + 1) : IMAGES)),
          },
          { weight: 1, arbitrary: fc.constantFrom(...INDEXES) },
        ),
        { maxLength: 4 },
      ),
    ),
  )
  .map((lists) => new Map(INDEXES.map((digest, k) => [digest, lists[k] as Digest[]])));

const referrerChildren: fc.Arbitrary<Map<Digest, Digest[]>> = fc
  .tuple(
    ...REFERRER_INDEXES.map(() =>
      fc.uniqueArray(fc.constantFrom(...ARTIFACTS), { minLength: 1, maxLength: 3 }),
    ),
  )
  .map((lists) => new Map(REFERRER_INDEXES.map((digest, k) => [digest, lists[k] as Digest[]])));

const hex7 = fc.stringMatching(/^[0-9a-f]{7}$/);
const buildName = fc.oneof(
  fc.nat(40).map((n) => `build-${n}`),
  hex7.map((sha) => `main-${sha}`),
  fc.constantFrom('latest', 'stable', 'v1.0.0'),
);

/** A build tag: an image, or a (tagged) index. */
const buildTag = fc.record({
  tag: buildName,
  digest: fc.constantFrom(...IMAGES, ...INDEXES),
  created,
});

/** A referrer tag of either schema, or a tagged artifact with `subject`. */
const referrerTag = fc.oneof(
  // the referrers tag schema: an index of artifacts tagged sha256-<hex of the subject>
  fc
    .record({ subject: fc.constantFrom(...SUBJECTS), digest: fc.constantFrom(...REFERRER_INDEXES) })
    .map(({ subject, digest }) => ({
      tag: subject.replace(':', '-'),
      digest,
      subject: undefined,
      created: undefined,
    })),
  // cosign: sha256-<hex>.sig|.att|.sbom
  fc
    .record({
      subject: fc.constantFrom(...SUBJECTS, ...ARTIFACTS),
      kind: fc.constantFrom('sig', 'att', 'sbom') as fc.Arbitrary<'sig' | 'att' | 'sbom'>,
      digest: fc.constantFrom(...ARTIFACTS),
      created,
    })
    .map(({ subject, kind, digest, created: date }) => ({
      tag: referrerTagOf(subject, kind),
      digest,
      subject: undefined,
      created: date,
    })),
  // a tagged artifact whose manifest names its subject, under a name the build rules match
  fc
    .record({
      name: buildName,
      subject: fc.constantFrom(...SUBJECTS),
      digest: fc.constantFrom(...ARTIFACTS),
      created,
    })
    .map(({ name, subject, digest, created: date }) => ({
      tag: `sbom-${name}`,
      digest,
      subject,
      created: date,
    })),
);

interface Shape {
  builds: Array<{ tag: string; digest: Digest; created: Date | undefined }>;
  referrers: Array<{ tag: string; digest: Digest; subject: Digest | undefined; created: Date | undefined }>;
  graph: Map<Digest, Digest[]>;
  referrerIndexes: Map<Digest, Digest[]>;
  /** Artifacts the inventory knows the subject of (from referrer indexes or the API). */
  known: Array<{ digest: Digest; subject: Digest }>;
  absent: Digest[];
  dangling: DanglingTag[];
}

const shape: fc.Arbitrary<Shape> = fc.record({
  builds: fc.uniqueArray(buildTag, { selector: (entry) => entry.tag, maxLength: 14 }),
  referrers: fc.uniqueArray(referrerTag, { selector: (entry) => entry.tag, maxLength: 8 }),
  graph: indexGraph,
  referrerIndexes: referrerChildren,
  known: fc.uniqueArray(
    fc.record({ digest: fc.constantFrom(...ARTIFACTS), subject: fc.constantFrom(...SUBJECTS) }),
    { selector: (entry) => entry.digest, maxLength: 3 },
  ),
  absent: fc.subarray(ELSEWHERE),
  dangling: fc.uniqueArray(
    fc.record({ tag: fc.nat(40).map((n) => `build-${n}-gone`), digest: fc.constantFrom(...IMAGES) }),
    { selector: (entry) => entry.tag, maxLength: 3 },
  ),
});

function record(
  tag: string,
  digest: Digest,
  date: Date | undefined,
  graph: ReadonlyMap<Digest, readonly Digest[]>,
  subject?: Digest,
): TagRecord {
  const children = graph.get(digest);
  return {
    tag,
    digest,
    mediaType: children ? MediaType.OciIndex : MediaType.OciManifest,
    ...(date && { created: date }),
    ...(children && { children }),
    ...(subject && { subject }),
  };
}

/** The inventory of one repository of `shape`; without referrers: builds and dangling tags only. */
function inventoryOf(input: Shape, withReferrers: boolean): Inventory {
  const graph = new Map<Digest, readonly Digest[]>([...input.graph, ...input.referrerIndexes]);
  const referrerTags = new Set(input.referrers.map((entry) => entry.tag));
  const tags: TagRecord[] = input.builds
    .filter((entry) => !withReferrers || !referrerTags.has(entry.tag))
    .map(({ tag, digest, created: date }) => record(tag, digest, date, graph));
  if (withReferrers)
    tags.push(
      ...input.referrers.map(({ tag, digest, created: date, subject }) =>
        record(tag, digest, date, graph, subject),
      ),
    );
  const tagged = new Set(tags.map((entry) => entry.digest));
  const indexes: IndexRecord[] = [...input.graph]
    .filter(([digest]) => !tagged.has(digest))
    .map(([digest, children]) => ({ digest, children }));
  const referrers: ReferrerRecord[] = withReferrers ? input.known : [];
  const repository: RepositoryInventory = {
    name: 'apps/web',
    tags,
    indexes,
    ...(withReferrers && { referrers, absentSubjects: input.absent }),
    ...(input.dangling.length > 0 && { dangling: input.dangling }),
  };
  return { registry: 'http://127.0.0.1:5000', repositories: [repository] };
}

const policy: fc.Arbitrary<Policy> = fc
  .record({
    protect: fc.subarray(['latest', 'v\\d+\\.\\d+\\.\\d+']),
    keep: fc.nat(3),
    olderThan: fc.option(fc.constantFrom('1d', '14d'), { nil: undefined }),
    catchAll: fc.boolean(),
  })
  .map(({ protect, keep, olderThan, catchAll }) =>
    compilePolicy({
      protect,
      rules: [
        { name: 'builds', tags: '(build|main)-[0-9a-f]+(-gone)?', keep, ...(olderThan && { olderThan }) },
        ...(catchAll ? [{ name: 'rest', keep: 1 }] : []),
      ],
    }),
  );

/** Every digest reachable from `roots` through the inventory's indexes (tagged or not). */
function reachable(inventory: RepositoryInventory, roots: Iterable<Digest>): Set<Digest> {
  const children = new Map<Digest, readonly Digest[]>();
  for (const tag of inventory.tags) if (tag.children) children.set(tag.digest, tag.children);
  for (const index of inventory.indexes ?? []) children.set(index.digest, index.children);
  const seen = new Set<Digest>();
  const stack = [...roots];
  while (stack.length > 0) {
    const digest = stack.pop() as Digest;
    if (seen.has(digest)) continue;
    seen.add(digest);
    stack.push(...(children.get(digest) ?? []));
  }
  return seen;
}

function isReferrer(input: Shape, tag: string): boolean {
  return input.referrers.some((entry) => entry.tag === tag);
}

describe('Function: planCleanup (properties of the index and referrer graph)', () => {
  it('never plans for delete a digest reachable from a kept tag, at any depth', () => {
    fc.assert(
      fc.property(shape, policy, fc.boolean(), fc.boolean(), (input, compiled, withReferrers, untag) => {
        // Prepare
        const inventory = inventoryOf(input, withReferrers);

        // Act
        const plan = planCleanup(inventory, compiled, NOW, { untagSupported: untag });

        // Assess
        const repository = inventory.repositories[0] as RepositoryInventory;
        const planned = plan.repositories[0]?.tags ?? [];
        const held = reachable(
          repository,
          planned.filter((tag) => tag.action === 'keep' && !tag.dangling).map((tag) => tag.digest),
        );
        for (const tag of planned) {
          if (tag.action === 'delete') expect(held.has(tag.digest)).toBe(false);
          if (tag.action === 'untag' && !tag.dangling) expect(held.has(tag.digest)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('referrer tags never change which builds are kept', () => {
    fc.assert(
      fc.property(shape, policy, fc.boolean(), (input, compiled, untag) => {
        // Act: the same builds, planned with and without the referrer tags and artifacts.
        const without = planCleanup(inventoryOf(input, false), compiled, NOW, { untagSupported: untag });
        const withReferrers = planCleanup(inventoryOf(input, true), compiled, NOW, { untagSupported: untag });

        // Assess
        const decisions = (plan: Plan): Map<string, string> =>
          new Map(
            (plan.repositories[0]?.tags ?? [])
              .filter((tag) => !isReferrer(input, tag.tag))
              .map((tag) => [tag.tag, `${tag.action} ${tag.rule} ${tag.reason}`]),
          );
        expect(decisions(withReferrers)).toEqual(decisions(without));
      }),
      { numRuns: 300 },
    );
  });

  it('never counts a referrer tag or an artifact with a subject towards keep', () => {
    fc.assert(
      fc.property(shape, policy, (input, compiled) => {
        // Act
        const plan = planCleanup(inventoryOf(input, true), compiled, NOW);

        // Assess: each is protected or follows its subject (or is an orphan), never ranked.
        for (const tag of plan.repositories[0]?.tags ?? []) {
          if (!isReferrer(input, tag.tag) || tag.rule === 'protect') continue;
          expect(referrerSubject(tag.tag) !== undefined || tag.tag.startsWith('sbom-')).toBe(true);
          expect(tag.reason).toMatch(/^(follows its subject|orphan referrer)/);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is independent of the order of tags, indexes and referrers', () => {
    fc.assert(
      fc.property(shape, policy, fc.boolean(), (input, compiled, untag) => {
        // Prepare
        const inventory = inventoryOf(input, true);
        const repository = inventory.repositories[0] as RepositoryInventory;
        const reversed: Inventory = {
          registry: inventory.registry,
          repositories: [
            {
              ...repository,
              tags: [...repository.tags].reverse(),
              indexes: [...(repository.indexes ?? [])].reverse(),
              referrers: [...(repository.referrers ?? [])].reverse(),
            },
          ],
        };

        // Act / Assess
        expect(planCleanup(reversed, compiled, NOW, { untagSupported: untag })).toEqual(
          planCleanup(inventory, compiled, NOW, { untagSupported: untag }),
        );
      }),
      { numRuns: 300 },
    );
  });
});
