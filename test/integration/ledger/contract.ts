import type { LedgerStore } from '../../../lambda/ledger';
import { describePendingContract } from './contract-pending';
import { describeReclaimContract } from './contract-reclaim';
import { describeRecordingContract } from './contract-recording';
import { START, TestClock, type LedgerFactory } from './fixtures';

export { TestClock, type LedgerFactory } from './fixtures';

/** What each part of the contract reads: the store and clock of the running test. */
export interface ContractContext {
  readonly store: LedgerStore;
  readonly clock: TestClock;
  /** Closes the store and opens a fresh one with these options (it becomes `store`). */
  reopen(options: { archiveRetentionMs?: number }): Promise<LedgerStore>;
}

/**
 * The behaviour every LedgerStore must have, run against each adapter by its own test file.
 * Each test opens a fresh store (its own file or table).
 */
export function describeLedgerContract(adapter: string, factory: () => LedgerFactory): void {
  describe(`Class: LedgerStore (${adapter})`, () => {
    let clock: TestClock;
    let store: LedgerStore;
    const open = async (options: { archiveRetentionMs?: number } = {}) => {
      store = await factory().open({ now: clock.now, ...options });
      return store;
    };
    const context: ContractContext = {
      get store() {
        return store;
      },
      get clock() {
        return clock;
      },
      reopen: async (options) => {
        await store.close();
        return open(options);
      },
    };

    beforeEach(async () => {
      clock = new TestClock(START);
      await open();
    });

    afterEach(async () => {
      await store.close();
    });

    describeRecordingContract(context);
    describeReclaimContract(context);
    describePendingContract(context);
  });
}
