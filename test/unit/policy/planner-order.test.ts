import { compilePolicy, planCleanup } from '../../../lambda/policy';
import { digestOf, inventoryOf, NOW, tagRecord, tagsByName } from './builders';

describe('Function: planCleanup', () => {
  describe('Feature: unknown age', () => {
    const inventory = inventoryOf('app', [
      tagRecord('a-unknown', digestOf(1)),
      tagRecord('b-unknown', digestOf(2)),
      tagRecord('c-old', digestOf(3), 100),
      { tag: 'd-epoch', digest: digestOf(4), mediaType: 'x', created: new Date(0) },
      { tag: 'e-invalid', digest: digestOf(5), mediaType: 'x', created: new Date(Number.NaN) },
    ]);

    it('is never older than olderThan', () => {
      // Prepare
      const policy = compilePolicy({ rules: [{ name: 'old', olderThan: '1d' }] });

      // Act
      const tags = tagsByName(planCleanup(inventory, policy, NOW));

      // Assess
      expect(tags.get('a-unknown')).toMatchObject({
        action: 'keep',
        reason: 'age unknown: never old',
        created: null,
      });
      expect(tags.get('d-epoch')).toMatchObject({ action: 'keep', created: null });
      expect(tags.get('e-invalid')).toMatchObject({ action: 'keep', created: null });
      expect(tags.get('c-old')).toMatchObject({ action: 'delete', created: '2026-08-20T00:00:00.000Z' });
    });

    it('counts as newest under order: created, and is never removed by rank alone', () => {
      // Prepare
      const policy = compilePolicy({ rules: [{ name: 'one', keep: 1 }] });

      // Act
      const tags = tagsByName(planCleanup(inventory, policy, NOW));

      // Assess
      expect(tags.get('e-invalid')).toMatchObject({ action: 'keep', reason: 'newest 1 (#1)' });
      expect(tags.get('d-epoch')).toMatchObject({
        action: 'keep',
        reason: 'beyond keep=1 (#2) but age unknown: never old',
      });
      expect(tags.get('c-old')).toMatchObject({ action: 'delete', reason: 'beyond keep=1 (#5)' });
    });
  });

  describe('Feature: order: semver', () => {
    it('orders by version with v prefixes and pre-releases, keeping tags that are not versions', () => {
      // Prepare
      const policy = compilePolicy({ rules: [{ name: 'releases', order: 'semver', keep: 2 }] });
      const inventory = inventoryOf('app', [
        tagRecord('v1.10.0', digestOf(1), 50),
        tagRecord('1.9.0', digestOf(2), 1),
        tagRecord('v2.0.0-rc.1', digestOf(3), 2),
        tagRecord('v2.0.0', digestOf(4)),
        tagRecord('1.2', digestOf(5), 90),
        tagRecord('nightly', digestOf(6), 90),
      ]);

      // Act
      const tags = tagsByName(planCleanup(inventory, policy, NOW));

      // Assess
      expect([...tags].map(([tag, planned]) => [tag, planned.action, planned.reason])).toEqual([
        ['1.2', 'keep', 'not a semver version'],
        ['1.9.0', 'delete', 'beyond keep=2 (#4)'],
        ['nightly', 'keep', 'not a semver version'],
        ['v1.10.0', 'delete', 'beyond keep=2 (#3)'],
        ['v2.0.0', 'keep', 'newest 2 by semver (#1)'],
        ['v2.0.0-rc.1', 'keep', 'newest 2 by semver (#2)'],
      ]);
    });

    it('still requires olderThan when set, with unknown age never old', () => {
      // Prepare
      const policy = compilePolicy({
        rules: [{ name: 'releases', order: 'semver', keep: 0, olderThan: '7d' }],
      });
      const inventory = inventoryOf('app', [
        tagRecord('1.0.0', digestOf(1)),
        tagRecord('1.1.0', digestOf(2), 8),
      ]);

      // Act
      const tags = tagsByName(planCleanup(inventory, policy, NOW));

      // Assess
      expect(tags.get('1.0.0')).toMatchObject({
        action: 'keep',
        reason: 'beyond keep=0 (#2) but age unknown: never old',
      });
      expect(tags.get('1.1.0')).toMatchObject({
        action: 'delete',
        reason: 'beyond keep=0 (#1) and 8d old > 7d',
      });
    });
  });
});
