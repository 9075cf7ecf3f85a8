import { MediaType, type Digest, type RepositoryInventory, type TagRecord } from '../../../lambda/domain';
import { compilePolicy, planCleanup } from '../../../lambda/policy';
import { actions, digestOf, NOW, referrerTagOf, tagRecord, tagsByName } from './builders';

const latestIndex = digestOf('a1');
const innerIndex = digestOf('b1');
const platform = digestOf('c1');
const arm = digestOf('c2');
const newer = digestOf('c3');

function indexRecord(tag: string, digest: Digest, children: Digest[], daysAgo?: number): TagRecord {
  return { ...tagRecord(tag, digest, daysAgo), mediaType: MediaType.OciIndex, children };
}

function inventory(repository: Omit<RepositoryInventory, 'name'>): Parameters<typeof planCleanup>[0] {
  return { registry: 'http://127.0.0.1:5000', repositories: [{ name: 'app', ...repository }] };
}

describe('Function: planCleanup (index graph and referrers)', () => {
  describe('Feature: nested indexes', () => {
    const policy = compilePolicy({
      protect: ['latest'],
      rules: [{ name: 'builds', tags: 'main-\\d+', keep: 1 }],
    });
    const tags = [
      indexRecord('latest', latestIndex, [innerIndex], 1),
      tagRecord('main-1', platform, 10),
      tagRecord('main-2', newer, 1),
    ];

    it('holds a digest a kept tag reaches through an untagged inner index, naming the tag', () => {
      // Act
      const plan = planCleanup(
        inventory({ tags, indexes: [{ digest: innerIndex, children: [platform, arm] }] }),
        policy,
        NOW,
      );

      // Assess
      expect(tagsByName(plan).get('main-1')).toMatchObject({
        action: 'untag',
        reason:
          "beyond keep=1 (#2); digest also held by kept tag 'latest' (a manifest of that index): untag only",
      });
    });

    it('keeps it, marked shared, where untag is impossible', () => {
      const plan = planCleanup(
        inventory({ tags, indexes: [{ digest: innerIndex, children: [platform, arm] }] }),
        policy,
        NOW,
        { untagSupported: false },
      );

      expect(tagsByName(plan).get('main-1')).toMatchObject({ action: 'keep', shared: true });
    });

    it('deletes it once nothing kept reaches the inner index', () => {
      const plan = planCleanup(
        inventory({ tags: tags.slice(1), indexes: [{ digest: innerIndex, children: [platform, arm] }] }),
        policy,
        NOW,
      );

      expect(actions(plan)).toEqual({ 'main-1': 'delete', 'main-2': 'keep' });
    });

    it('ends a malformed loop of indexes without holding anything by it', () => {
      // Prepare: main-9 (an index, removed) → x → y → main-9's own digest.
      const loop = inventory({
        tags: [indexRecord('main-9', digestOf('d9'), [digestOf('e1')], 20), tagRecord('main-10', newer, 1)],
        indexes: [
          { digest: digestOf('e1'), children: [digestOf('e2')] },
          { digest: digestOf('e2'), children: [digestOf('d9')] },
        ],
      });

      // Act / Assess
      expect(actions(planCleanup(loop, policy, NOW))).toEqual({ 'main-10': 'keep', 'main-9': 'delete' });
    });
  });

  describe('Feature: referrers', () => {
    const build1 = digestOf('11');
    const build2 = digestOf('12');
    const build3 = digestOf('13');
    const keepTwo = compilePolicy({ rules: [{ name: 'all', keep: 2 }] });
    const builds = [
      tagRecord('build-1', build1, 3),
      tagRecord('build-2', build2, 2),
      tagRecord('build-3', build3, 1),
    ];

    it('never counts referrers-tag-schema indexes (sha256-<hex>) towards keep', () => {
      // Prepare: each build has a referrer index; they have no age (they would rank newest).
      const referrerIndexes = [build1, build2, build3].map((subject, n) =>
        indexRecord(subject.replace(':', '-'), digestOf(`f${n}`), [digestOf(`a${n}`)]),
      );

      // Act
      const plan = planCleanup(inventory({ tags: [...builds, ...referrerIndexes] }), keepTwo, NOW);

      // Assess
      const planned = tagsByName(plan);
      expect(actions(plan)).toMatchObject({ 'build-1': 'delete', 'build-2': 'keep', 'build-3': 'keep' });
      expect(planned.get(build1.replace(':', '-'))).toMatchObject({
        action: 'delete',
        reason: "follows its subject 'build-1', which is deleted",
      });
      expect(planned.get(build3.replace(':', '-'))?.action).toBe('keep');
    });

    it('makes a tagged artifact with a subject (from its manifest or the referrers API) follow it', () => {
      // Prepare: sbom-a carries its subject; sbom-b is known from a referrers answer.
      const tags = [
        ...builds,
        { ...tagRecord('sbom-a', digestOf('5a'), 0), subject: build3 },
        tagRecord('sbom-b', digestOf('5b'), 0),
      ];

      // Act
      const plan = planCleanup(
        inventory({ tags, referrers: [{ digest: digestOf('5b'), subject: build1 }] }),
        keepTwo,
        NOW,
      );

      // Assess
      expect(actions(plan)).toEqual({
        'build-1': 'delete',
        'build-2': 'keep',
        'build-3': 'keep',
        'sbom-a': 'keep',
        'sbom-b': 'delete',
      });
    });

    it('keeps a signature of a platform manifest while a kept index reaches it', () => {
      // Prepare: latest → inner index → platform; a cosign signature of the platform manifest.
      const policy = compilePolicy({ protect: ['latest'], rules: [{ name: 'all', keep: 0 }] });
      const signature = referrerTagOf(platform);
      const tags = [
        indexRecord('latest', latestIndex, [innerIndex], 1),
        tagRecord(signature, digestOf('5c'), 1),
      ];

      // Act
      const plan = planCleanup(
        inventory({ tags, indexes: [{ digest: innerIndex, children: [platform] }] }),
        policy,
        NOW,
      );

      // Assess
      expect(tagsByName(plan).get(signature)).toMatchObject({
        action: 'keep',
        reason: `follows its subject ${platform}, which kept tag 'latest' reaches through its index`,
      });
    });

    it('never makes a tag an orphan only because a listing names a gone subject', () => {
      // Prepare: a stale referrer index lists build-3's digest under a subject that is gone.
      const gone = digestOf('99');
      const plan = planCleanup(
        inventory({
          tags: builds,
          referrers: [{ digest: build3, subject: gone }],
          absentSubjects: [gone],
        }),
        keepTwo,
        NOW,
      );

      // Assess: build-3 is not removed as an orphan.
      expect(tagsByName(plan).get('build-3')).toMatchObject({ action: 'keep' });
      expect(tagsByName(plan).get('build-3')?.reason).toContain('listed as a referrer of');
    });
  });
});
