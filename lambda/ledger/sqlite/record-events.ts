import type BetterSqlite3 from 'better-sqlite3';

import type { RecordEventsResult } from '../records';
import { historyKey, PULL_RECORD_INTERVAL_MS, type classifyEvents } from '../rules';
import type { Statements } from './statements';

/**
 * Records classified events in one transaction: all or nothing, so a failed call is repeated
 * whole by the registry's retry. A push or delete first claims its event id (`INSERT OR IGNORE`:
 * no row inserted means a duplicate, and nothing else is written); a pull carries no id record,
 * its hourly condition is the WHERE of its upsert.
 */
export function recordClassifiedEvents(
  database: BetterSqlite3.Database,
  statements: Statements,
  classified: ReturnType<typeof classifyEvents>,
  seenAt: number,
): RecordEventsResult {
  const counts = {
    recorded: 0,
    duplicates: classified.duplicates,
    throttled: 0,
    ignored: classified.ignored,
  };
  const s = statements;
  database.transaction(() => {
    for (const { kind, event } of classified.accepted) {
      const row = {
        repository: event.repository,
        digest: event.digest ?? null,
        tag: event.tag || null,
        mediaType: event.mediaType ?? null,
        size: event.size ?? null,
        at: event.timestamp.getTime(),
      };
      if (kind === 'pull') {
        if (s.pull.run({ ...row, interval: PULL_RECORD_INTERVAL_MS }).changes === 0) {
          counts.throttled += 1;
          continue;
        }
      } else {
        if (s.markEvent.run({ id: event.id, seenAt }).changes === 0) {
          counts.duplicates += 1;
          continue;
        }
        if (kind === 'push') {
          s.push.run(row);
          if (row.tag !== null) s.pushTag.run(row);
        } else if (row.digest !== null) {
          // A digest delete takes the manifest and every tag on it; a tag delete, that tag only.
          s.markGone.run(row);
          s.deleteTagsOfDigest.run(row);
        } else {
          s.deleteTag.run(row);
        }
      }
      s.insertHistory.run({
        ...row,
        key: historyKey(event.timestamp, event.id),
        kind,
        eventId: event.id,
        runId: null,
        reason: null,
      });
      counts.recorded += 1;
    }
  })();
  return counts;
}
