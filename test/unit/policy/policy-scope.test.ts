import {
  compilePolicy,
  policyCoversRepository,
  policyNeedsAge,
  rulesForRepository,
} from '../../../lambda/policy';

describe('Function: policyCoversRepository', () => {
  const policy = compilePolicy({
    rules: [
      { name: 'apps', repositories: ['apps/**'], keep: 3 },
      { name: 'one-level', repositories: ['team/*'], order: 'semver', keep: 3 },
    ],
  });

  it.each([
    ['apps/web', true],
    ['apps/a/b/c', true],
    ['apps', true],
    ['appsx/web', false],
    ['team/web', true],
    ['team/web/api', false],
    ['other', false],
  ])('%s → %s', (repository, covered) => {
    // Act & Assess
    expect(policyCoversRepository(policy, repository)).toBe(covered);
  });

  it('lists the covering rules in policy order', () => {
    // Prepare
    const both = compilePolicy({
      rules: [
        { name: 'b', keep: 1 },
        { name: 'a', repositories: ['x'], keep: 1 },
      ],
    });

    // Act & Assess
    expect(rulesForRepository(both, 'x').map((rule) => rule.name)).toEqual(['b', 'a']);
    expect(rulesForRepository(both, 'y').map((rule) => rule.name)).toEqual(['b']);
  });
});

describe('Function: policyNeedsAge', () => {
  it.each<[string, object, boolean]>([
    ['created order with keep', { keep: 3 }, true],
    ['olderThan', { order: 'semver', olderThan: '7d' }, true],
    ['semver order with keep only', { order: 'semver', keep: 3 }, false],
    ['a rule with neither keep nor olderThan', { tags: 'x' }, false],
  ])('%s → %s', (_label, rule, needsAge) => {
    // Prepare
    const policy = compilePolicy({ rules: [{ repositories: ['apps/**'], ...rule }] });

    // Act & Assess
    expect(policyNeedsAge(policy, 'apps/web')).toBe(needsAge);
    expect(policyNeedsAge(policy, 'other/web')).toBe(false);
  });
});
