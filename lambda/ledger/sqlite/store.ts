import type BetterSqlite3 from 'better-sqlite3';

import { isDigest, type Digest } from '../../domain';
import {
  LedgerError,
  LedgerInputError,
  LedgerRunExistsError,
  LedgerRunNotFoundError,
  LedgerUnavailableError,
} from '../errors';
import type {
  HistoryEntry,
  HistorySubject,
  LedgerEvent,
  LedgerManifest,
  LedgerPendingPlan,
  LedgerRemoval,
  LedgerRun,
  LedgerTag,
  ManifestFacts,
  NewRemoval,
  NewRun,
  PendingPlan,
  RecordEventsOptions,
  RecordEventsResult,
} from '../records';
import {
  ARCHIVE_RETENTION_MS,
  archiveExpiry,
  checkBudget,
  keptPendingPlan,
  checkRemoval,
  checkReservation,
  classifyEvents,
  GONE_MANIFEST_RETENTION_MS,
  keptBody,
  systemClock,
  type LedgerClock,
} from '../rules';
import type { LedgerStore } from '../store';
import {
  historyFromRow,
  manifestFromRow,
  pendingPlanFromRow,
  removalFromRow,
  runFromRow,
  tagFromRow,
  type HistoryRow,
  type ManifestRow,
  archiveHistoryParameters,
  pendingPlanParameters,
  type PendingPlanRow,
  removalParameters,
  type RemovalRow,
  type RunRow,
  type TagRow,
} from './rows';
import { openLedgerDatabase } from './open';
import { recordClassifiedEvents } from './record-events';
import { SQL, type Statements } from './statements';

/** How long a write waits for another process (the CLI next to `serve`) to release the file. */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;
/** SQLite keeps any size of body; the cap only refuses absurd ones (distribution's own limit is 4 MiB). */
export const SQLITE_MAX_ARCHIVE_BODY_BYTES = 16 * 1024 * 1024;

/** How to open a SQLite ledger: a file path, or a database a caller already opened. */
export type SqliteLedgerConfig = (
  | {
      /** The ledger file; created (with its directory's permissions) when absent. */
      readonly file: string;
      /** @default {@link SQLITE_BUSY_TIMEOUT_MS} */
      readonly busyTimeoutMs?: number;
    }
  | {
      /** An open better-sqlite3 database; `close()` leaves it open. */
      readonly database: BetterSqlite3.Database;
    }
) & {
  /** @default the wall clock */
  readonly now?: LedgerClock;
  /** How long archived removals stay restorable. @default {@link ARCHIVE_RETENTION_MS} */
  readonly archiveRetentionMs?: number;
};

/**
 * The ledger in a local SQLite file (better-sqlite3, WAL, busy timeout): for the CLI and
 * `serve`. Opening applies the schema's migrations and prunes expired archives, expired pending
 * plans and long-gone manifests. better-sqlite3 is loaded only here, when a ledger file is opened.
 */
export class SqliteLedgerStore implements LedgerStore {
  /** The file, as given (`:memory:` or `<database>` when a database was passed in). */
  public readonly file: string;
  private readonly database: BetterSqlite3.Database;
  private readonly ownsDatabase: boolean;
  private readonly now: LedgerClock;
  private readonly archiveRetentionMs: number;
  private readonly statements: Statements;

  public constructor(config: SqliteLedgerConfig) {
    this.now = config.now ?? systemClock;
    this.archiveRetentionMs = config.archiveRetentionMs ?? ARCHIVE_RETENTION_MS;
    if ('database' in config) {
      this.file = config.database.name;
      this.database = openLedgerDatabase({ database: config.database });
      this.ownsDatabase = false;
    } else {
      this.file = config.file;
      this.database = openLedgerDatabase({
        file: config.file,
        busyTimeoutMs: config.busyTimeoutMs ?? SQLITE_BUSY_TIMEOUT_MS,
      });
      this.ownsDatabase = true;
    }
    try {
      this.statements = Object.fromEntries(
        Object.entries(SQL).map(([name, sql]) => [name, this.database.prepare(sql)]),
      ) as Statements;
      const now = this.now().getTime();
      this.statements.pruneRemovals.run({ now });
      this.statements.prunePendingPlans.run({ now });
      this.statements.pruneGoneManifests.run({ before: now - GONE_MANIFEST_RETENTION_MS });
    } catch (error) {
      if (this.ownsDatabase) this.database.close();
      throw new LedgerUnavailableError(
        `cannot use the ledger file '${this.file}': ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  public async recordEvents(
    events: readonly LedgerEvent[],
    options: RecordEventsOptions = {},
  ): Promise<RecordEventsResult> {
    const classified = classifyEvents(events, options.ignorePullsFrom);
    return this.guard('recordEvents', () =>
      recordClassifiedEvents(this.database, this.statements, classified, this.now().getTime()),
    );
  }

  public async getManifests(
    repository: string,
    digests: readonly Digest[],
  ): Promise<Map<Digest, LedgerManifest>> {
    return this.guard('getManifests', () => {
      const rows = this.statements.getManifests.all({
        repository,
        digests: JSON.stringify([...new Set(digests)]),
      }) as ManifestRow[];
      return new Map(rows.map((row) => [row.digest as Digest, manifestFromRow(row)]));
    });
  }

  public async putFacts(repository: string, facts: readonly ManifestFacts[]): Promise<void> {
    for (const fact of facts) {
      if (!isDigest(fact.digest)) throw new LedgerInputError(`'${fact.digest}' is not a digest`);
    }
    this.guard('putFacts', () => {
      const recordedAt = this.now().getTime();
      this.database.transaction(() => {
        for (const fact of facts) {
          this.statements.putFacts.run({
            repository,
            digest: fact.digest,
            mediaType: fact.mediaType,
            size: fact.size,
            created: fact.created?.getTime() ?? null,
            children: fact.children ? JSON.stringify(fact.children) : null,
            subject: fact.subject ?? null,
            configDigest: fact.configDigest ?? null,
            blobSizes: fact.blobSizes ? JSON.stringify(fact.blobSizes) : null,
            body: bufferOrNull(keptBody(fact)),
            recordedAt,
          });
        }
      })();
    });
  }

  public async listManifests(repository: string): Promise<LedgerManifest[]> {
    return this.guard('listManifests', () =>
      (this.statements.listManifests.all({ repository }) as ManifestRow[]).map(manifestFromRow),
    );
  }

  public async listTags(repository: string): Promise<LedgerTag[]> {
    return this.guard('listTags', () =>
      (this.statements.listTags.all({ repository }) as TagRow[]).map(tagFromRow),
    );
  }

  public async getTag(repository: string, tag: string): Promise<LedgerTag | undefined> {
    return this.guard('getTag', () => {
      const row = this.statements.getTag.get({ repository, tag }) as TagRow | undefined;
      return row && tagFromRow(row);
    });
  }

  public async history(
    subject: HistorySubject,
    options: { readonly limit?: number } = {},
  ): Promise<HistoryEntry[]> {
    return this.guard('history', () =>
      (
        this.statements.history.all({
          repository: subject.repository,
          tag: subject.tag ?? null,
          digest: subject.digest ?? null,
          limit: options.limit ?? -1,
        }) as HistoryRow[]
      ).map(historyFromRow),
    );
  }

  public async createRun(run: NewRun): Promise<LedgerRun> {
    checkBudget(run.budget);
    return this.guard('createRun', () => {
      const row = {
        runId: run.runId,
        trigger: run.trigger,
        startedAt: run.startedAt.getTime(),
        budget: run.budget ?? null,
      };
      if (this.statements.createRun.run(row).changes === 0) throw new LedgerRunExistsError(run.runId);
      return { ...run, used: 0 };
    });
  }

  public async reserveBudget(runId: string, count: number): Promise<boolean> {
    checkReservation(count);
    return this.guard('reserveBudget', () => {
      // One UPDATE whose WHERE holds the budget check: atomic across processes sharing the file.
      if (this.statements.reserve.run({ runId, count }).changes === 1) return true;
      if (this.statements.getRun.get({ runId }) === undefined) throw new LedgerRunNotFoundError(runId);
      return false;
    });
  }

  public async getRun(runId: string): Promise<LedgerRun | undefined> {
    return this.guard('getRun', () => {
      const row = this.statements.getRun.get({ runId }) as RunRow | undefined;
      return row && runFromRow(row);
    });
  }

  public async archiveRemoval(removal: NewRemoval): Promise<LedgerRemoval> {
    checkRemoval(removal, SQLITE_MAX_ARCHIVE_BODY_BYTES);
    return this.guard('archiveRemoval', () => {
      const archived: LedgerRemoval = {
        ...removal,
        tags: [...removal.tags],
        body: new Uint8Array(removal.body),
        expiresAt: archiveExpiry(removal.removedAt, this.archiveRetentionMs),
      };
      this.database.transaction(() => {
        this.statements.archive.run(removalParameters(archived));
        for (const entry of archiveHistoryParameters(archived)) this.statements.insertHistory.run(entry);
      })();
      return archived;
    });
  }

  public async listRemovals(runId: string): Promise<LedgerRemoval[]> {
    return this.guard('listRemovals', () =>
      (this.statements.listRemovals.all({ runId, now: this.now().getTime() }) as RemovalRow[]).map(
        removalFromRow,
      ),
    );
  }

  public async latestRemovalOfTag(repository: string, tag: string): Promise<LedgerRemoval | undefined> {
    return this.guard('latestRemovalOfTag', () => {
      const row = this.statements.latestRemovalOfTag.get({ repository, tag, now: this.now().getTime() }) as
        RemovalRow | undefined;
      return row && removalFromRow(row);
    });
  }

  public async savePendingPlan(plan: PendingPlan): Promise<LedgerPendingPlan> {
    const saved = keptPendingPlan(plan);
    return this.guard('savePendingPlan', () => {
      this.statements.savePendingPlan.run(pendingPlanParameters(saved));
      return saved;
    });
  }

  public async getPendingPlan(id: string): Promise<LedgerPendingPlan | undefined> {
    return this.guard('getPendingPlan', () => {
      const row = this.statements.getPendingPlan.get({ id, now: this.now().getTime() }) as
        PendingPlanRow | undefined;
      return row && pendingPlanFromRow(row);
    });
  }

  public async close(): Promise<void> {
    if (this.ownsDatabase && this.database.open) this.database.close();
  }

  /** Runs a store operation; a SQLite failure (busy, disk full, closed) becomes a LedgerUnavailableError. */
  private guard<T>(operation: string, action: () => T): T {
    try {
      return action();
    } catch (error) {
      if (error instanceof LedgerError) throw error;
      throw new LedgerUnavailableError(
        `the ledger file '${this.file}' failed ${operation}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}

function bufferOrNull(bytes: Uint8Array | undefined): Buffer | null {
  return bytes ? Buffer.from(bytes) : null;
}
