import type { Digest } from '../../../lambda/domain';
import {
  ARCHIVE_RETENTION_MS,
  LedgerInputError,
  LedgerRunExistsError,
  LedgerRunNotFoundError,
} from '../../../lambda/ledger';
import type { ContractContext } from './contract';
import { DAY_MS, digestOf, removal, REPOSITORY, START } from './fixtures';

/** The contract's second part: runs and their budgets, archived removals and their expiry. */
export function describeReclaimContract(t: ContractContext): void {
  describe('Method: reserveBudget', () => {
    it('reserves within the budget and refuses, changing nothing, what would exceed it', async () => {
      // Prepare
      const run = await t.store.createRun({
        runId: 'run-1',
        trigger: 'schedule',
        startedAt: new Date(START),
        budget: 10,
      });

      // Act & Assess
      expect(run).toEqual({
        runId: 'run-1',
        trigger: 'schedule',
        startedAt: new Date(START),
        budget: 10,
        used: 0,
      });
      expect(await t.store.reserveBudget('run-1', 6)).toBe(true);
      expect(await t.store.reserveBudget('run-1', 5)).toBe(false);
      expect((await t.store.getRun('run-1'))?.used).toBe(6);
      expect(await t.store.reserveBudget('run-1', 4)).toBe(true);
      expect(await t.store.reserveBudget('run-1', 1)).toBe(false);
      expect(await t.store.reserveBudget('run-1', 0)).toBe(true);
      expect(await t.store.getRun('run-1')).toEqual({ ...run, used: 10 });
    });

    it('never lets parallel reservations exceed the budget together', async () => {
      // Prepare: 60 workers ask for 1..4 removals each (150 in all) from a budget of 97
      await t.store.createRun({
        runId: 'run-1',
        trigger: 'schedule',
        startedAt: new Date(START),
        budget: 97,
      });
      const asks = Array.from({ length: 60 }, (_, index) => (index % 4) + 1);

      // Act
      const granted = await Promise.all(asks.map((count) => t.store.reserveBudget('run-1', count)));

      // Assess: what was granted is exactly what is used, within the budget, and the rest did not fit
      const grantedTotal = asks.reduce((sum, count, index) => sum + (granted[index] ? count : 0), 0);
      const { used } = (await t.store.getRun('run-1')) ?? { used: -1 };
      expect(used).toBe(grantedTotal);
      expect(used).toBeLessThanOrEqual(97);
      const smallestRefused = Math.min(...asks.filter((_, index) => !granted[index]));
      expect(used + smallestRefused).toBeGreaterThan(97);
    });

    it('counts without refusing for a run without a budget', async () => {
      // Prepare
      await t.store.createRun({ runId: 'run-1', trigger: 'push', startedAt: new Date(START) });

      // Act
      const granted = await Promise.all([
        t.store.reserveBudget('run-1', 400),
        t.store.reserveBudget('run-1', 600),
      ]);

      // Assess
      expect(granted).toEqual([true, true]);
      expect(await t.store.getRun('run-1')).toEqual({
        runId: 'run-1',
        trigger: 'push',
        startedAt: new Date(START),
        used: 1000,
      });
    });

    it('refuses an unknown run, a second run with the same id, and counts that are not whole', async () => {
      // Prepare
      await t.store.createRun({ runId: 'run-1', trigger: 'cli', startedAt: new Date(START), budget: 5 });

      // Act & Assess
      await expect(t.store.reserveBudget('run-unknown', 1)).rejects.toBeInstanceOf(LedgerRunNotFoundError);
      await expect(
        t.store.createRun({ runId: 'run-1', trigger: 'cli', startedAt: new Date(START), budget: 500 }),
      ).rejects.toBeInstanceOf(LedgerRunExistsError);
      await expect(t.store.reserveBudget('run-1', -1)).rejects.toBeInstanceOf(LedgerInputError);
      await expect(t.store.reserveBudget('run-1', 1.5)).rejects.toBeInstanceOf(LedgerInputError);
      expect((await t.store.getRun('run-1'))?.budget).toBe(5);
      expect(await t.store.getRun('run-unknown')).toBeUndefined();
    });
  });

  describe('Method: archiveRemoval', () => {
    it('keeps the exact body bytes, lists a run by repository and digest, and finds the newest archive of a tag', async () => {
      // Prepare
      const body = Uint8Array.from({ length: 4096 }, (_, index) => (index * 31 + (index >> 8)) % 256);
      const first = removal({
        runId: 'run-1',
        digest: digestOf('old'),
        tags: ['main', 'main-1a2b3c4'],
        body,
      });
      const second = removal({
        runId: 'run-2',
        digest: digestOf('newer'),
        tags: ['main'],
        removedAt: new Date(Date.parse(START) + DAY_MS),
      });
      const untagged = removal({
        runId: 'run-1',
        repository: 'apps/api',
        digest: digestOf('untagged'),
        tags: [],
      });

      // Act
      const archived = await t.store.archiveRemoval(first);
      await t.store.archiveRemoval(second);
      await t.store.archiveRemoval(untagged);

      // Assess
      expect(archived.expiresAt).toEqual(new Date(Date.parse(START) + ARCHIVE_RETENTION_MS));
      const listed = await t.store.listRemovals('run-1');
      expect(listed.map((entry) => `${entry.repository}@${entry.digest}`)).toEqual([
        `apps/api@${digestOf('untagged')}`,
        `${REPOSITORY}@${digestOf('old')}`,
      ]);
      const roundTripped = listed[1];
      expect(roundTripped).toEqual({ ...first, expiresAt: archived.expiresAt });
      expect(Buffer.from(roundTripped?.body ?? []).equals(Buffer.from(body))).toBe(true);
      expect((await t.store.latestRemovalOfTag(REPOSITORY, 'main'))?.digest).toBe(digestOf('newer'));
      expect((await t.store.latestRemovalOfTag(REPOSITORY, 'main-1a2b3c4'))?.digest).toBe(digestOf('old'));
      expect(await t.store.latestRemovalOfTag(REPOSITORY, 'mai')).toBeUndefined();
      expect(await t.store.latestRemovalOfTag('apps/api', 'main')).toBeUndefined();
    });

    it('drops archives once they expire (30 days by default)', async () => {
      // Prepare
      await t.store.archiveRemoval(removal({ tags: ['v1'] }));

      // Act & Assess: still there the day before
      t.clock.advance(ARCHIVE_RETENTION_MS - 1000);
      expect(await t.store.listRemovals('run-1')).toHaveLength(1);
      expect(await t.store.latestRemovalOfTag(REPOSITORY, 'v1')).toBeDefined();

      // Act & Assess: gone once expired
      t.clock.advance(1000);
      expect(await t.store.listRemovals('run-1')).toEqual([]);
      expect(await t.store.latestRemovalOfTag(REPOSITORY, 'v1')).toBeUndefined();
    });

    it('keeps archives for the retention it is configured with', async () => {
      // Prepare
      await t.reopen({ archiveRetentionMs: DAY_MS });
      const archived = await t.store.archiveRemoval(removal());

      // Act
      t.clock.advance(DAY_MS);

      // Assess
      expect(archived.expiresAt).toEqual(new Date(Date.parse(START) + DAY_MS));
      expect(await t.store.listRemovals('run-1')).toEqual([]);
    });

    it('refuses a removal without a body or with a malformed digest', async () => {
      // Act & Assess
      await expect(t.store.archiveRemoval(removal({ body: new Uint8Array() }))).rejects.toBeInstanceOf(
        LedgerInputError,
      );
      await expect(
        t.store.archiveRemoval(removal({ digest: 'sha256:nope' as Digest })),
      ).rejects.toBeInstanceOf(LedgerInputError);
      expect(await t.store.listRemovals('run-1')).toEqual([]);
    });
  });
}
