import { join } from 'node:path';

import { BUDGET_SKIPPED, sweepRun } from '../../../lambda/engine';
import { SqliteLedgerStore } from '../../../lambda/ledger';
import { compilePolicy } from '../../../lambda/policy';
import { pushBuilds, useRegistry } from '../../helpers/registry-fixture';
import { makeTempDir } from '../../../tools/exit-cleanup';
import { listTagsRaw } from '../../../tools/pusher';

const policy = compilePolicy({ rules: [{ name: 'builds', keep: 1 }] });
const REPOSITORIES = ['team/a', 'team/b', 'team/c'];

describe('Function: sweepRun (a run budget reserved per repository)', () => {
  const fixture = useRegistry();

  it('removes at most the budget, skipping whole the repositories that do not fit', async () => {
    // Prepare: three repositories of four builds (three removals each); a run of budget 7 in the
    // ledger; each repository is swept on its own, as the workers sweep them.
    const url = fixture.registry.url;
    for (const name of REPOSITORIES) await pushBuilds(url, name, 4);
    const ledger = new SqliteLedgerStore({ file: join(makeTempDir('regsweep-budget-'), 'ledger.db') });
    await ledger.createRun({ runId: 'run-1', trigger: 'schedule', startedAt: new Date(), budget: 7 });
    const asked: Array<[string, number]> = [];
    try {
      // Act
      const plans = [];
      for (const name of REPOSITORIES)
        plans.push(
          await sweepRun({
            client: fixture.client,
            policy,
            repositories: [name],
            reserveRemovals: async (repository, count) => {
              asked.push([repository, count]);
              return ledger.reserveBudget('run-1', count);
            },
          }),
        );

      // Assess: 3 + 3 fit in 7; the third repository's 3 do not, so none of its tags goes.
      expect(asked).toEqual(REPOSITORIES.map((name) => [name, 3]));
      expect((await ledger.getRun('run-1'))?.used).toBe(6);
      expect(plans.map((plan) => plan.summary.delete)).toEqual([3, 3, 0]);
      expect(await listTagsRaw(url, 'team/a')).toEqual(['build-4']);
      expect(await listTagsRaw(url, 'team/b')).toEqual(['build-4']);
      expect((await listTagsRaw(url, 'team/c')).sort()).toEqual(['build-1', 'build-2', 'build-3', 'build-4']);
      const skipped = plans[2]?.repositories[0]?.tags.filter((tag) => tag.reason.includes(BUDGET_SKIPPED));
      expect(skipped?.map((tag) => [tag.tag, tag.action])).toEqual([
        ['build-1', 'keep'],
        ['build-2', 'keep'],
        ['build-3', 'keep'],
      ]);
    } finally {
      await ledger.close();
    }
  });

  it('asks nothing of the budget for a repository with nothing to remove', async () => {
    // Prepare
    await pushBuilds(fixture.registry.url, 'team/a', 1);
    const asked: number[] = [];

    // Act
    await sweepRun({
      client: fixture.client,
      policy,
      reserveRemovals: async (_repository, count) => {
        asked.push(count);
        return true;
      },
    });

    // Assess
    expect(asked).toEqual([]);
  });
});
