import type { LedgerEvent, RecordEventsResult } from './records';
import type { LedgerStore } from './store';

/**
 * How long a notification's events may take to record before the receiver answers anyway. The
 * registry waits for the answer (its endpoint `timeout`, 2 s in the README's config) and retries
 * what it sees fail: a slow store must not turn into retries, so past this the rest is dropped.
 */
export const RECORD_BUDGET_MS = 1_000;
/** Events per `recordEvents` call: what was recorded before the budget ran out stays recorded. */
export const RECORD_CHUNK_EVENTS = 25;

/** What {@link recordWithin} did with a notification's events; every event is counted once. */
export interface RecordingOutcome extends RecordEventsResult {
  /** Not recorded: the store failed, or the budget ran out first. */
  readonly lost: number;
  /** Why events were lost: the store's error message, or that the budget ran out. */
  readonly error?: string;
}

/**
 * Records `events` in chunks within `budgetMs`, and never throws: a failing or slow store loses
 * the events it did not take (counted in `lost`, with the reason), and the caller answers the
 * registry as usual. The store's writes are idempotent, so a chunk cut off by the budget that
 * completes later does no harm.
 */
export async function recordWithin(
  store: LedgerStore,
  events: readonly LedgerEvent[],
  options: { readonly budgetMs?: number; readonly ignorePullsFrom?: readonly RegExp[] } = {},
): Promise<RecordingOutcome> {
  const totals = { recorded: 0, duplicates: 0, throttled: 0, ignored: 0 };
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<'out-of-time'>((resolve) => {
    timer = setTimeout(() => resolve('out-of-time'), options.budgetMs ?? RECORD_BUDGET_MS);
    timer.unref();
  });
  let done = 0;
  try {
    for (let start = 0; start < events.length; start += RECORD_CHUNK_EVENTS) {
      const chunk = events.slice(start, start + RECORD_CHUNK_EVENTS);
      const writing = store.recordEvents(chunk, {
        ...(options.ignorePullsFrom && { ignorePullsFrom: options.ignorePullsFrom }),
      });
      // A write the budget cut off may still fail later: that must not be an unhandled rejection.
      writing.catch(() => undefined);
      const answer = await Promise.race([writing, outOfTime]);
      if (answer === 'out-of-time') {
        return {
          ...totals,
          lost: events.length - done,
          error: `the ledger took longer than ${options.budgetMs ?? RECORD_BUDGET_MS} ms`,
        };
      }
      totals.recorded += answer.recorded;
      totals.duplicates += answer.duplicates;
      totals.throttled += answer.throttled;
      totals.ignored += answer.ignored;
      done += chunk.length;
    }
    return { ...totals, lost: 0 };
  } catch (error) {
    return { ...totals, lost: events.length - done, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
