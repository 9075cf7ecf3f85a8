import type { Digest } from '../domain';
import type {
  HistoryEntry,
  HistorySubject,
  LedgerEvent,
  LedgerManifest,
  LedgerRemoval,
  LedgerPendingPlan,
  LedgerRun,
  LedgerTag,
  ManifestFacts,
  NewRemoval,
  NewRun,
  PendingPlan,
  RecordEventsOptions,
  RecordEventsResult,
} from './records';

/**
 * What regsweep remembers about a registry. Two implementations: `SqliteLedgerStore` (a local
 * file, for the CLI and `serve`) and `DynamoDbLedgerStore` (one table, on AWS); the same contract
 * tests run on both. Every write is idempotent, so a failed call may be repeated; failures are
 * `LedgerError`s (`LedgerUnavailableError` when the store cannot be reached).
 */
export interface LedgerStore {
  /**
   * Records notification events: a push writes the manifest's first/last push time and, with a
   * tag, the tag (the newest push of a tag wins, whatever the arrival order); a pull by a client
   * that counts as use (not regsweep, not `ignorePullsFrom`) writes `lastPulledAt` at most once
   * per `PULL_RECORD_INTERVAL_MS` per digest; a delete marks the manifest gone and drops the tags
   * it took down (a tag delete drops that tag). An event id is recorded once, so a retried
   * notification changes nothing.
   */
  recordEvents(events: readonly LedgerEvent[], options?: RecordEventsOptions): Promise<RecordEventsResult>;

  /** The ledger's records of these digests in `repository`, by digest; unknown digests are absent. */
  getManifests(repository: string, digests: readonly Digest[]): Promise<Map<Digest, LedgerManifest>>;

  /** Records what regsweep read about manifests (their push and pull times are left as they are). */
  putFacts(repository: string, facts: readonly ManifestFacts[]): Promise<void>;

  /** Every manifest of `repository` the ledger knows and no delete removed: untagged cleanup starts here. */
  listManifests(repository: string): Promise<LedgerManifest[]>;

  /** The tags of `repository` as last pushed, by tag name. */
  listTags(repository: string): Promise<LedgerTag[]>;

  /** One tag as last pushed, or undefined. */
  getTag(repository: string, tag: string): Promise<LedgerTag | undefined>;

  /** Pushes, pulls, deletes and archived removals of a repository, tag or digest, newest first. */
  history(subject: HistorySubject, options?: { readonly limit?: number }): Promise<HistoryEntry[]>;

  /** Creates a run with `used` 0. @throws LedgerRunExistsError when the run id is taken */
  createRun(run: NewRun): Promise<LedgerRun>;

  /**
   * Reserves `count` removals from the run's budget with one atomic conditional update: true and
   * `used` grows by `count` when `used + count <= budget` (always, for a run without a budget);
   * false, changing nothing, otherwise. Parallel callers never reserve more than the budget.
   * @throws LedgerRunNotFoundError when the run does not exist
   */
  reserveBudget(runId: string, count: number): Promise<boolean>;

  /** The run, or undefined. */
  getRun(runId: string): Promise<LedgerRun | undefined>;

  /**
   * Archives a manifest about to be removed (body bytes kept exactly), and notes it in the
   * history. Archiving the same run, repository and digest again replaces the archive. A removal
   * whose archive call failed must not be sent.
   */
  archiveRemoval(removal: NewRemoval): Promise<LedgerRemoval>;

  /** The run's archived removals that have not expired, by repository then digest. */
  listRemovals(runId: string): Promise<LedgerRemoval[]>;

  /** The newest unexpired archived removal that took `repository:tag` down, or undefined. */
  latestRemovalOfTag(repository: string, tag: string): Promise<LedgerRemoval | undefined>;

  /**
   * Keeps the rest of a plan for a continuation (body bytes kept exactly, whatever their size)
   * until `savedAt` + `PENDING_PLAN_RETENTION_MS`. Saving the same id again replaces it whole.
   */
  savePendingPlan(plan: PendingPlan): Promise<LedgerPendingPlan>;

  /** The pending plan `id` if it has not expired, or undefined. */
  getPendingPlan(id: string): Promise<LedgerPendingPlan | undefined>;

  /** Releases the file or the client the store opened (a client passed in is left open). */
  close(): Promise<void>;
}
