import { MediaType, type Inventory } from '../../../lambda/domain';
import { compilePolicy, planCleanup } from '../../../lambda/policy';
import { actions, digestOf, inventoryOf, NOW, referrerTagOf, tagRecord, tagsByName } from './builders';

const shared = digestOf('5a');
const alone = digestOf('a1');

describe('Function: planCleanup', () => {
  describe('Feature: digest safety', () => {
    const policy = compilePolicy({
      protect: ['latest'],
      rules: [{ name: 'builds', tags: 'build-.*', keep: 0 }],
    });
    const inventory = inventoryOf('app', [
      tagRecord('latest', shared, 9),
      tagRecord('build-1', shared, 9),
      tagRecord('build-2', alone, 9),
      tagRecord('build-3', alone, 9),
    ]);

    it('untags a removed tag whose digest a kept tag still holds, naming that tag', () => {
      // Act
      const tags = tagsByName(planCleanup(inventory, policy, NOW));

      // Assess
      expect(tags.get('build-1')).toMatchObject({
        action: 'untag',
        rule: 'builds',
        reason: "beyond keep=0 (#3); digest also held by kept tag 'latest': untag only",
      });
      expect(tags.get('build-1')?.shared).toBeUndefined();
    });

    it('keeps such a tag as shared when untag is unsupported', () => {
      // Act
      const tags = tagsByName(planCleanup(inventory, policy, NOW, { untagSupported: false }));

      // Assess
      expect(tags.get('build-1')).toMatchObject({
        action: 'keep',
        shared: true,
        reason: "beyond keep=0 (#3); digest also held by kept tag 'latest' and untag is unsupported: kept",
      });
    });

    it('deletes a digest whose tags are all removed, marking every one of them delete', () => {
      // Act
      const result = actions(planCleanup(inventory, policy, NOW, { untagSupported: false }));

      // Assess
      expect(result).toMatchObject({ 'build-2': 'delete', 'build-3': 'delete' });
    });

    it('protects the digest of a tag kept by a rule, not only of protected tags', () => {
      // Prepare
      const twoRules = compilePolicy({
        rules: [
          { name: 'builds', tags: 'build-.*', keep: 0 },
          { name: 'releases', tags: 'release-.*', keep: 5 },
        ],
      });
      const sharedRelease = inventoryOf('app', [
        tagRecord('build-9', shared, 9),
        tagRecord('release-1', shared, 9),
      ]);

      // Act
      const tags = tagsByName(planCleanup(sharedRelease, twoRules, NOW));

      // Assess
      expect(tags.get('build-9')).toMatchObject({ action: 'untag', rule: 'builds' });
      expect(tags.get('build-9')?.reason).toContain("kept tag 'release-1'");
    });
  });

  describe('Feature: multi-arch index children', () => {
    const policy = compilePolicy({
      protect: ['v.*'],
      rules: [{ name: 'builds', tags: 'build-.*', keep: 0 }],
    });
    const amd64 = digestOf('c1');
    const arm64 = digestOf('c2');
    const index = (tag: string, digest: string, children: string[]) => ({
      ...tagRecord(tag, digest as `sha256:${string}`, 5),
      mediaType: MediaType.OciIndex,
      children: children as Array<`sha256:${string}`>,
    });

    it('untags a removed tag that points at a platform manifest of a kept index', () => {
      // Prepare: build-1 points at the amd64 manifest of the protected index v1.
      const inventory = inventoryOf('app', [
        index('v1', digestOf('1d'), [amd64, arm64]),
        tagRecord('build-1', amd64, 9),
      ]);

      // Act
      const tags = tagsByName(planCleanup(inventory, policy, NOW));

      // Assess
      expect(tags.get('build-1')).toMatchObject({ action: 'untag' });
      expect(tags.get('build-1')?.reason).toContain("kept tag 'v1' (a manifest of that index)");
    });

    it('deletes such a tag when the index is removed too, and follows nested indexes', () => {
      // Prepare: build-2 is an index of an index; build-3 points at a leaf; all are removed.
      const inner = digestOf('2e');
      const removed = inventoryOf('app', [
        index('build-2', digestOf('2d'), [inner]),
        index('build-4', inner, [arm64]),
        tagRecord('build-3', arm64, 9),
      ]);
      const kept = inventoryOf('app', [
        index('v2', digestOf('2d'), [inner]),
        index('build-4', inner, [arm64]),
        tagRecord('build-3', arm64, 9),
      ]);

      // Act
      const removedPlan = actions(planCleanup(removed, policy, NOW));
      const keptPlan = actions(planCleanup(kept, policy, NOW));

      // Assess
      expect(removedPlan).toEqual({ 'build-2': 'delete', 'build-3': 'delete', 'build-4': 'delete' });
      expect(keptPlan).toEqual({ v2: 'keep', 'build-3': 'untag', 'build-4': 'untag' });
    });
  });

  describe('Feature: cosign-style referrer tags', () => {
    const subjectOld = digestOf('01d');
    const subjectNew = digestOf('4e3');
    const policy = compilePolicy({
      rules: [
        { name: 'builds', tags: 'build-.*', keep: 1 },
        { name: 'rest', keep: 0 },
      ],
    });

    it('deletes a referrer whose subject is deleted and keeps one whose subject is kept', () => {
      // Prepare
      const inventory = inventoryOf('app', [
        tagRecord('build-1', subjectOld, 20),
        tagRecord('build-2', subjectNew, 2),
        tagRecord(referrerTagOf(subjectOld, 'sig'), digestOf('51'), 1),
        tagRecord(referrerTagOf(subjectOld, 'sbom'), digestOf('5b'), 1),
        tagRecord(referrerTagOf(subjectNew, 'att'), digestOf('a7'), 100),
      ]);

      // Act
      const tags = tagsByName(planCleanup(inventory, policy, NOW));

      // Assess
      expect(tags.get(referrerTagOf(subjectOld, 'sig'))).toMatchObject({
        action: 'delete',
        rule: 'builds',
        reason: "follows its subject 'build-1', which is deleted",
      });
      expect(tags.get(referrerTagOf(subjectOld, 'sbom'))?.action).toBe('delete');
      expect(tags.get(referrerTagOf(subjectNew, 'att'))).toMatchObject({
        action: 'keep',
        rule: 'builds',
        reason: "follows its subject 'build-2', which is kept",
      });
    });

    it('keeps a referrer whose subject digest survives through a kept tag, even if another tag on it is untagged', () => {
      // Prepare
      const protecting = compilePolicy({ protect: ['stable'], rules: [{ name: 'all', keep: 0 }] });
      const inventory = inventoryOf('app', [
        tagRecord('build-1', subjectOld, 20),
        tagRecord('stable', subjectOld, 20),
        tagRecord(referrerTagOf(subjectOld), digestOf('51'), 20),
      ]);

      // Act
      const tags = tagsByName(planCleanup(inventory, protecting, NOW));

      // Assess
      expect(tags.get('build-1')?.action).toBe('untag');
      expect(tags.get(referrerTagOf(subjectOld))).toMatchObject({
        action: 'keep',
        rule: 'protect',
        reason: "follows its subject 'stable', which is kept",
      });
    });

    it('keeps a referrer whose subject no tag reaches, while the subject may be stored untagged', () => {
      // Prepare
      const inventory = inventoryOf('app', [tagRecord(referrerTagOf(subjectOld), digestOf('51'), 20)]);

      // Act
      const tags = tagsByName(planCleanup(inventory, policy, NOW));

      // Assess
      expect(tags.get(referrerTagOf(subjectOld))).toMatchObject({ action: 'keep', rule: null });
      expect(tags.get(referrerTagOf(subjectOld))?.reason).toContain('may be stored untagged');
    });

    it('removes an orphan referrer (its subject is not in the repository) when a rule matching it removes tags', () => {
      // Prepare
      const inventory: Inventory = {
        registry: 'http://127.0.0.1:5000',
        repositories: [
          {
            name: 'app',
            tags: [tagRecord(referrerTagOf(subjectOld), digestOf('51'), 20)],
            absentSubjects: [subjectOld],
          },
        ],
      };

      // Act
      const tags = tagsByName(planCleanup(inventory, policy, NOW));

      // Assess
      expect(tags.get(referrerTagOf(subjectOld))).toMatchObject({
        action: 'delete',
        rule: 'rest',
        reason: `orphan referrer: its subject ${subjectOld} is not in the repository: removed`,
      });
    });

    it('follows a chain: a signature of a tagged attestation of an image', () => {
      // Prepare
      const attestation = digestOf('a77');
      const inventory = inventoryOf('app', [
        tagRecord('build-1', subjectOld, 20),
        tagRecord('build-2', subjectNew, 2),
        tagRecord(referrerTagOf(subjectOld, 'att'), attestation, 20),
        tagRecord(referrerTagOf(attestation, 'sig'), digestOf('51'), 20),
      ]);

      // Act
      const result = actions(planCleanup(inventory, policy, NOW));

      // Assess
      expect(result[referrerTagOf(subjectOld, 'att')]).toBe('delete');
      expect(result[referrerTagOf(attestation, 'sig')]).toBe('delete');
    });

    it('still applies digest safety to a referrer tag itself', () => {
      // Prepare
      const signature = digestOf('51');
      const inventory = inventoryOf('app', [
        tagRecord('build-1', subjectOld, 20),
        tagRecord('build-2', subjectNew, 2),
        tagRecord(referrerTagOf(subjectOld), signature, 20),
        tagRecord('pinned', signature, 20),
      ]);
      const pinning = compilePolicy({
        protect: ['pinned'],
        rules: [{ name: 'builds', tags: 'build-.*', keep: 1 }],
      });

      // Act
      const tags = tagsByName(planCleanup(inventory, pinning, NOW));

      // Assess
      expect(tags.get(referrerTagOf(subjectOld))).toMatchObject({
        action: 'untag',
        reason:
          "follows its subject 'build-1', which is deleted; digest also held by kept tag 'pinned': untag only",
      });
    });

    it('ends a loop of referrer tags pointing at each other on the safe side', () => {
      // Prepare
      const x = digestOf('e1');
      const y = digestOf('e2');
      const inventory = inventoryOf('app', [
        tagRecord(referrerTagOf(y), x, 20),
        tagRecord(referrerTagOf(x), y, 20),
        tagRecord(referrerTagOf(x, 'att'), x, 20),
        tagRecord('a-build', x, 20),
      ]);

      // Act
      const plan = planCleanup(inventory, compilePolicy({ rules: [{ name: 'all', keep: 0 }] }), NOW);

      // Assess
      expect(plan.summary).toMatchObject({ keep: 3, delete: 0, untag: 1 });
      expect(tagsByName(plan).get('a-build')?.action).toBe('untag');
      expect(tagsByName(plan).get(referrerTagOf(x, 'att'))?.reason).toBe(
        `follows its subject ${x}, which is kept (referrer tags point at each other)`,
      );
    });
  });

  describe('Feature: the plan envelope', () => {
    it('records registry, time and dry run, sorts repositories and tags, and counts the summary', () => {
      // Prepare
      const policy = compilePolicy({ rules: [{ name: 'all', keep: 1 }] });
      const inventory = {
        registry: 'http://127.0.0.1:5000',
        repositories: [
          { name: 'zeta', tags: [tagRecord('b', digestOf(1), 1), tagRecord('a', digestOf(2), 2)] },
          { name: 'alpha', tags: [tagRecord('only', digestOf(3), 3)] },
        ],
      };

      // Act
      const dryRun = planCleanup(inventory, policy, NOW);
      const real = planCleanup(inventory, policy, NOW, { dryRun: false });

      // Assess
      expect(dryRun).toMatchObject({
        registry: 'http://127.0.0.1:5000',
        generatedAt: NOW.toISOString(),
        dryRun: true,
      });
      expect(real.dryRun).toBe(false);
      expect(
        dryRun.repositories.map((repository) => [repository.name, repository.tags.map((tag) => tag.tag)]),
      ).toEqual([
        ['alpha', ['only']],
        ['zeta', ['a', 'b']],
      ]);
      expect(dryRun.repositories[1]?.tags[0]).toEqual({
        tag: 'a',
        digest: digestOf(2),
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        created: '2026-11-26T00:00:00.000Z',
        action: 'delete',
        rule: 'all',
        reason: 'beyond keep=1 (#2)',
      });
      expect(dryRun.summary).toEqual({
        repositories: 2,
        tags: 3,
        keep: 2,
        delete: 1,
        untag: 0,
        failed: 0,
        failedRepositories: 0,
      });
      expect(JSON.parse(JSON.stringify(dryRun))).toEqual(dryRun);
    });
  });
});
