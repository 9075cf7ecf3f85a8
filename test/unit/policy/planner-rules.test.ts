import { compilePolicy, planCleanup } from '../../../lambda/policy';
import { actions, digestOf, inventoryOf, NOW, tagRecord, tagsByName } from './builders';

describe('Function: planCleanup', () => {
  describe('Feature: which rule decides a tag', () => {
    it('keeps a tag that no rule matches', () => {
      // Prepare
      const policy = compilePolicy({ rules: [{ name: 'prs', tags: 'pr-.*', keep: 0 }] });

      // Act
      const plan = planCleanup(inventoryOf('app', [tagRecord('main', digestOf(1), 30)]), policy, NOW);

      // Assess
      expect(tagsByName(plan).get('main')).toMatchObject({
        action: 'keep',
        rule: null,
        reason: 'no rule matches',
      });
    });

    it('keeps protected tags, naming the pattern, before any rule', () => {
      // Prepare
      const policy = compilePolicy({
        protect: ['latest', 'v?\\d+\\.\\d+\\.\\d+'],
        rules: [{ name: 'all', keep: 0 }],
      });
      const inventory = inventoryOf('app', [
        tagRecord('latest', digestOf(1), 90),
        tagRecord('v1.2.3', digestOf(2), 90),
        tagRecord('1.2.3', digestOf(3), 90),
        tagRecord('v1.2', digestOf(4), 90),
      ]);

      // Act
      const tags = tagsByName(planCleanup(inventory, policy, NOW));

      // Assess
      expect(tags.get('latest')).toMatchObject({
        action: 'keep',
        rule: 'protect',
        reason: "protected by 'latest'",
      });
      expect(tags.get('v1.2.3')).toMatchObject({
        rule: 'protect',
        reason: "protected by 'v?\\d+\\.\\d+\\.\\d+'",
      });
      expect(tags.get('1.2.3')?.action).toBe('keep');
      expect(tags.get('v1.2')).toMatchObject({ action: 'delete', rule: 'all' });
    });

    it('lets the first matching rule decide, and passes excluded tags on to later rules', () => {
      // Prepare
      const policy = compilePolicy({
        rules: [
          { name: 'branches', tags: 'main-.*', exclude: '.*-keep', keep: 0 },
          { name: 'catch-all', keep: 5 },
          { name: 'never-reached', tags: 'main-.*', keep: 0 },
        ],
      });
      const inventory = inventoryOf('app', [
        tagRecord('main-1', digestOf(1), 30),
        tagRecord('main-2-keep', digestOf(2), 30),
      ]);

      // Act
      const tags = tagsByName(planCleanup(inventory, policy, NOW));

      // Assess
      expect(tags.get('main-1')).toMatchObject({ action: 'delete', rule: 'branches' });
      expect(tags.get('main-2-keep')).toMatchObject({
        action: 'keep',
        rule: 'catch-all',
        reason: 'newest 5 (#1)',
      });
    });

    it('applies a rule only to the repositories its globs match', () => {
      // Prepare
      const policy = compilePolicy({ rules: [{ name: 'apps', repositories: ['apps/*'], keep: 0 }] });
      const tags = [tagRecord('main', digestOf(1), 30)];
      const inventory = {
        registry: 'http://127.0.0.1:5000',
        repositories: [
          { name: 'apps/web', tags },
          { name: 'apps/web/api', tags },
          { name: 'tools', tags },
        ],
      };

      // Act
      const plan = planCleanup(inventory, policy, NOW);

      // Assess
      expect(plan.repositories.map((repository) => [repository.name, repository.tags[0]?.action])).toEqual([
        ['apps/web', 'delete'],
        ['apps/web/api', 'keep'],
        ['tools', 'keep'],
      ]);
    });

    it('removes nothing with a rule that sets neither keep nor olderThan, and claims its tags', () => {
      // Prepare
      const policy = compilePolicy({
        rules: [
          { name: 'hold', tags: 'release-.*' },
          { name: 'rest', keep: 0 },
        ],
      });

      // Act
      const tags = tagsByName(
        planCleanup(inventoryOf('app', [tagRecord('release-1', digestOf(1), 400)]), policy, NOW),
      );

      // Assess
      expect(tags.get('release-1')).toMatchObject({
        action: 'keep',
        rule: 'hold',
        reason: 'rule sets neither keep nor olderThan',
      });
    });
  });

  describe('Feature: keep and olderThan by created', () => {
    const inventory = inventoryOf('apps/web', [
      tagRecord('main-aaaaaaa', digestOf(1), 30),
      tagRecord('main-bbbbbbb', digestOf(2), 20),
      tagRecord('main-ccccccc', digestOf(3), 10),
      tagRecord('main-ddddddd', digestOf(4), 3),
      tagRecord('develop-eeeeeee', digestOf(5), 40),
      tagRecord('develop-fffffff', digestOf(6), 1),
      tagRecord('odd', digestOf(7), 40),
    ]);

    it('keeps the newest N of each groupBy stream and removes the rest when old enough', () => {
      // Prepare
      const policy = compilePolicy({
        rules: [{ name: 'branches', tags: '.*', groupBy: '(.+)-[0-9a-f]{7}', keep: 2, olderThan: '14d' }],
      });

      // Act
      const tags = tagsByName(planCleanup(inventory, policy, NOW));

      // Assess
      expect([...tags].map(([tag, planned]) => [tag, planned.action, planned.reason])).toEqual([
        ['develop-eeeeeee', 'keep', "newest 2 in stream 'develop' (#2)"],
        ['develop-fffffff', 'keep', "newest 2 in stream 'develop' (#1)"],
        ['main-aaaaaaa', 'delete', "beyond keep=2 in stream 'main' (#4) and 30d old > 14d"],
        ['main-bbbbbbb', 'delete', "beyond keep=2 in stream 'main' (#3) and 20d old > 14d"],
        ['main-ccccccc', 'keep', "newest 2 in stream 'main' (#2)"],
        ['main-ddddddd', 'keep', "newest 2 in stream 'main' (#1)"],
        ['odd', 'keep', 'does not match groupBy: in no stream'],
      ]);
    });

    it('keeps a candidate beyond keep that is younger than olderThan', () => {
      // Prepare
      const policy = compilePolicy({ rules: [{ name: 'main', tags: 'main-.*', keep: 1, olderThan: '14d' }] });

      // Act
      const tags = tagsByName(planCleanup(inventory, policy, NOW));

      // Assess
      expect(tags.get('main-ccccccc')).toMatchObject({
        action: 'keep',
        reason: 'beyond keep=1 (#2) but younger than 14d (10d old)',
      });
      expect(tags.get('main-bbbbbbb')).toMatchObject({
        action: 'delete',
        reason: 'beyond keep=1 (#3) and 20d old > 14d',
      });
    });

    it('removes by age alone when only olderThan is set', () => {
      // Prepare
      const policy = compilePolicy({ rules: [{ name: 'old', tags: 'main-.*', olderThan: '14d' }] });

      // Act
      const tags = tagsByName(planCleanup(inventory, policy, NOW));

      // Assess
      expect(tags.get('main-bbbbbbb')).toMatchObject({ action: 'delete', reason: '20d old > 14d' });
      expect(tags.get('main-ddddddd')).toMatchObject({ action: 'keep', reason: 'younger than 14d (3d old)' });
    });

    it('removes by rank alone when only keep is set, and keep: 0 removes every candidate', () => {
      // Prepare
      const keepTwo = compilePolicy({ rules: [{ name: 'two', tags: 'main-.*', keep: 2 }] });
      const keepNone = compilePolicy({ rules: [{ name: 'none', tags: 'main-.*', keep: 0 }] });

      // Act
      const two = planCleanup(inventory, keepTwo, NOW);
      const none = planCleanup(inventory, keepNone, NOW);

      // Assess
      expect(tagsByName(two).get('main-bbbbbbb')?.reason).toBe('beyond keep=2 (#3)');
      expect(actions(two)).toMatchObject({
        'main-aaaaaaa': 'delete',
        'main-ccccccc': 'keep',
        'main-ddddddd': 'keep',
      });
      expect(tagsByName(none).get('main-ddddddd')).toMatchObject({
        action: 'delete',
        reason: 'beyond keep=0 (#1)',
      });
    });

    it('breaks ties of equal age by tag name, later names first', () => {
      // Prepare
      const policy = compilePolicy({ rules: [{ name: 'one', keep: 1 }] });
      const twins = inventoryOf('app', [
        tagRecord('build-1', digestOf(1), 5),
        tagRecord('build-2', digestOf(2), 5),
      ]);

      // Act
      const result = actions(planCleanup(twins, policy, NOW));

      // Assess
      expect(result).toEqual({ 'build-1': 'delete', 'build-2': 'keep' });
    });

    it('says when a build date lies in the future', () => {
      // Prepare
      const policy = compilePolicy({ rules: [{ name: 'old', olderThan: '1d' }] });

      // Act
      const tags = tagsByName(
        planCleanup(inventoryOf('app', [tagRecord('skewed', digestOf(1), -0.5)]), policy, NOW),
      );

      // Assess
      expect(tags.get('skewed')).toMatchObject({
        action: 'keep',
        reason: 'younger than 1d (created 12h in the future)',
      });
    });
  });
});
