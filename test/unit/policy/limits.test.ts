import { compilePolicy, deleteLimitExceeded, planCleanup, plannedRemovals } from '../../../lambda/policy';
import { digestOf, inventoryOf, NOW, tagRecord } from './builders';

describe('Function: deleteLimitExceeded', () => {
  // Two tags on one digest (one protected: untag) and two alone: three removals.
  const inventory = inventoryOf('app', [
    tagRecord('latest', digestOf(1), 9),
    tagRecord('build-1', digestOf(1), 9),
    tagRecord('build-2', digestOf(2), 9),
    tagRecord('build-3', digestOf(3), 9),
  ]);

  it.each<[number | undefined, { planned: number; limit: number } | undefined]>([
    [undefined, undefined],
    [3, undefined],
    [2, { planned: 3, limit: 2 }],
  ])('with maxDeletesPerRun=%s answers %j', (limit, exceeded) => {
    // Prepare
    const policy = compilePolicy({
      protect: ['latest'],
      rules: [{ name: 'builds', keep: 0 }],
      ...(limit !== undefined && { limits: { maxDeletesPerRun: limit } }),
    });
    const plan = planCleanup(inventory, policy, NOW);

    // Act & Assess
    expect(plannedRemovals(plan)).toBe(3);
    expect(deleteLimitExceeded(plan, policy)).toEqual(exceeded);
  });
});
