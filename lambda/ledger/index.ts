/**
 * The ledger: what regsweep remembers about a registry. Plain distribution keeps no push time, no
 * pull time, no list of a repository's manifests and no undo; regsweep receives every
 * notification, so it remembers them here.
 *
 * Records (see `records.ts`):
 * - **manifest** (repository + digest): the facts regsweep read (media type, size, created,
 *   children, subject, config, blob sizes; digests are immutable, so they never go stale), the
 *   manifest body up to {@link MAX_FACTS_BODY_BYTES} (a sweep archives from it instead of reading
 *   the manifest again), and the first/last push and last pull times the notifications gave.
 * - **tag** (repository + tag): the digest it was last pushed as, and when.
 * - **event** (event id): a push or delete notification recorded once, so the registry's
 *   retries change nothing. Pulls count only from clients other than regsweep (`regsweep/…`) and
 *   the policy's `ledger.ignorePullsFrom`, and rewrite `lastPulledAt` at most once an hour per
 *   digest ({@link PULL_RECORD_INTERVAL_MS}).
 * - **history**: pushes, pulls, deletes and archived removals per repository, newest first.
 * - **run** (runId): trigger, start, budget and used: `reserveBudget` is one atomic conditional
 *   increment, so workers sharing a run never remove more than its budget together.
 * - **removal** (runId + repository + digest): the exact manifest body archived before a removal,
 *   for `restore`; kept {@link ARCHIVE_RETENTION_MS} (30 days) by default.
 *
 * Stores, one {@link LedgerStore} interface and the same contract tests on both:
 * - {@link SqliteLedgerStore}: a local file (better-sqlite3, WAL, versioned schema) for the CLI
 *   and `serve`; the native module is loaded only when a file is opened.
 * - {@link DynamoDbLedgerStore}: one table ({@link LEDGER_TABLE_KEYS}) for the Lambdas; TTL
 *   expires archives after 30 days and manifests gone for 90 ({@link GONE_MANIFEST_RETENTION_MS}).
 *
 * This package imports `lambda/domain` only; the adapters are its only I/O.
 */
export * from './errors';
export * from './records';
export type { LedgerStore } from './store';
export { RECORD_BUDGET_MS, RECORD_CHUNK_EVENTS, recordWithin, type RecordingOutcome } from './recorder';
export {
  ARCHIVE_RETENTION_MS,
  GONE_MANIFEST_RETENTION_MS,
  PENDING_PLAN_RETENTION_MS,
  PULL_RECORD_INTERVAL_MS,
  REGSWEEP_USER_AGENT_PREFIX,
  isRecordablePull,
  systemClock,
  type LedgerClock,
} from './rules';
export {
  SqliteLedgerStore,
  SQLITE_BUSY_TIMEOUT_MS,
  SQLITE_MAX_ARCHIVE_BODY_BYTES,
  type SqliteLedgerConfig,
} from './sqlite/store';
export { SCHEMA_VERSION as SQLITE_SCHEMA_VERSION } from './sqlite/schema';
export {
  DynamoDbLedgerStore,
  DYNAMODB_MAX_ARCHIVE_BODY_BYTES,
  type DynamoDbLedgerConfig,
} from './dynamodb/store';
export { LEDGER_TABLE_KEYS } from './dynamodb/keys';
