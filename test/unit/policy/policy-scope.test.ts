import {
  compilePolicy,
  policyAgeNeed,
  policyCoversRepository,
  policyNeedsAge,
  rulesForRepository,
  type AgeNeed,
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
    ['natural order with keep only', { order: 'natural', keep: 3 }, false],
    ['natural order with olderThan', { order: 'natural', olderThan: '7d' }, true],
    ['pushed order with keep (the fallback for tags never seen pushed)', { order: 'pushed', keep: 3 }, true],
    ['keepPulledWithin alone', { order: 'semver', keep: 3, keepPulledWithin: '30d' }, false],
  ])('%s → %s', (_label, rule, needsAge) => {
    // Prepare
    const policy = compilePolicy({ rules: [{ repositories: ['apps/**'], ...rule }] });

    // Act & Assess
    expect(policyNeedsAge(policy, 'apps/web')).toBe(needsAge);
    expect(policyNeedsAge(policy, 'other/web')).toBe(false);
  });
});

describe('Function: policyAgeNeed', () => {
  it.each<[string, object[], AgeNeed]>([
    [
      'semver and natural orders with keep only',
      [
        { order: 'semver', keep: 3 },
        { order: 'natural', keep: 1 },
      ],
      'none',
    ],
    ['rules that remove nothing', [{ order: 'pushed' }, { keepPulledWithin: '7d' }], 'none'],
    ['pushed order with keep', [{ order: 'pushed', keep: 3 }], 'tags-not-pushed'],
    ['pushed order with olderThan', [{ order: 'pushed', olderThan: '7d' }], 'tags-not-pushed'],
    ['created order with keep', [{ keep: 3 }], 'every-tag'],
    ['natural order with olderThan', [{ order: 'natural', olderThan: '7d' }], 'every-tag'],
    [
      'a pushed rule next to a created one',
      [{ tags: 'a-.*', order: 'pushed', keep: 1 }, { keep: 1 }],
      'every-tag',
    ],
  ])('%s → %s', (_label, rules, need) => {
    // Prepare
    const policy = compilePolicy({ rules: rules.map((rule) => ({ repositories: ['apps/**'], ...rule })) });

    // Act & Assess
    expect(policyAgeNeed(policy, 'apps/web')).toBe(need);
    expect(policyAgeNeed(policy, 'other/web')).toBe('none');
  });
});
