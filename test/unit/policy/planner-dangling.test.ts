import type { Inventory } from '../../../lambda/domain';
import { compilePolicy, planCleanup } from '../../../lambda/policy';
import { digestOf, NOW, tagRecord, tagsByName } from './builders';

const gone = digestOf('dead');

/** One repository with real tags and tags whose manifest `gone` is gone. */
function inventoryWithDangling(dangling: readonly string[]): Inventory {
  return {
    registry: 'http://127.0.0.1:5000',
    repositories: [
      {
        name: 'app',
        tags: [tagRecord('build-1', digestOf(1), 3), tagRecord('build-2', digestOf(2), 1)],
        dangling: dangling.map((tag) => ({ tag, digest: gone })),
      },
    ],
  };
}

describe('Function: planCleanup (dangling tags)', () => {
  const policy = compilePolicy({
    protect: ['latest'],
    rules: [
      { name: 'pinned', tags: 'pinned-.*' },
      { name: 'builds', tags: 'build-.*', keep: 5 },
    ],
  });

  it('removes a dangling tag a removing rule matches, without counting it in the stream', () => {
    // Act: keep=5 would keep every build that exists; the dangling one is no image.
    const tags = tagsByName(planCleanup(inventoryWithDangling(['build-0']), policy, NOW));

    // Assess
    expect(tags.get('build-0')).toEqual({
      tag: 'build-0',
      digest: gone,
      mediaType: '',
      created: null,
      action: 'untag',
      rule: 'builds',
      reason:
        'listed, but its manifest is gone (a digest delete failed halfway): removing the tag finishes it',
      dangling: true,
    });
    expect([...tags.keys()]).toEqual(['build-0', 'build-1', 'build-2']);
    expect(tags.get('build-1')?.action).toBe('keep');
  });

  it.each([
    ['latest', 'protect', "protected by 'latest'; listed"],
    ['pinned-1', 'pinned', "rule 'pinned' removes nothing; listed"],
    ['feature-x', null, 'no rule matches; listed'],
  ])('keeps dangling %s, as the policy keeps that name', (tag, rule, reason) => {
    const planned = tagsByName(planCleanup(inventoryWithDangling([tag]), policy, NOW)).get(tag);

    expect(planned).toMatchObject({ action: 'keep', rule, dangling: true });
    expect(planned?.reason.startsWith(reason)).toBe(true);
  });

  it('keeps a dangling tag when untag is unsupported', () => {
    const plan = planCleanup(inventoryWithDangling(['build-0']), policy, NOW, { untagSupported: false });

    expect(tagsByName(plan).get('build-0')).toMatchObject({ action: 'keep', dangling: true });
    expect(tagsByName(plan).get('build-0')?.reason).toMatch(/untag is unsupported: kept$/);
  });

  it('plans a dangling tag that links to no manifest with an empty digest', () => {
    const inventory = inventoryWithDangling([]);
    const repository = inventory.repositories[0];
    const plan = planCleanup(
      { ...inventory, repositories: [{ ...repository!, dangling: [{ tag: 'build-0' }] }] },
      policy,
      NOW,
    );

    expect(tagsByName(plan).get('build-0')).toMatchObject({
      digest: '',
      action: 'untag',
      dangling: true,
      reason: 'listed, but links to no manifest (a tag removal cut short): removing the tag finishes it',
    });
  });

  it('counts removed dangling tags as untags in the summary', () => {
    const plan = planCleanup(inventoryWithDangling(['build-0', 'latest']), policy, NOW);

    expect(plan.summary).toEqual({
      repositories: 1,
      tags: 4,
      keep: 3,
      delete: 0,
      untag: 1,
      failed: 0,
      failedRepositories: 0,
    });
  });
});
