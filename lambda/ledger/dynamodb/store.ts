import { DynamoDBClient, UpdateItemCommand, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

import { isDigest, type Digest } from '../../domain';
import { LedgerError, LedgerInputError, LedgerUnavailableError } from '../errors';
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
  keptBody,
  systemClock,
  type LedgerClock,
} from '../rules';
import type { LedgerStore } from '../store';
import { names, to, type Item } from './attributes';
import { batchGet, forEachLimited, type Sleep } from './batch';
import type { TableContext } from './context';
import { historyFromItem, manifestFromItem, runFromItem, tagFromItem } from './items';
import { ItemKey, SortPrefix } from './keys';
import { getPendingPlan, savePendingPlan } from './pending-plans';
import { getItem, queryItems } from './reads';
import { archiveRemoval, createRun, latestRemovalOfTag, listRemovals, reserveBudget } from './reclaim';
import { RECORD_CONCURRENCY, recordEvents } from './record-events';

/**
 * DynamoDB's item limit is 400 KB; an archive also holds its tags, reason and keys, so the body
 * gets a little less. A larger manifest cannot be archived here, so it is not removed.
 */
export const DYNAMODB_MAX_ARCHIVE_BODY_BYTES = 380 * 1024;

/** How to reach the ledger table: a ready client, or the configuration to build one. */
export interface DynamoDbLedgerConfig {
  /** The table (see `LEDGER_TABLE_KEYS` for its key schema). */
  readonly tableName: string;
  /** A client to use; `close()` leaves it open. */
  readonly client?: DynamoDBClient;
  /** Configuration of the client the store builds (region, `endpoint` for tests). Ignored with `client`. */
  readonly clientConfig?: DynamoDBClientConfig;
  /** @default the wall clock */
  readonly now?: LedgerClock;
  /** How long archived removals stay restorable. @default {@link ARCHIVE_RETENTION_MS} */
  readonly archiveRetentionMs?: number;
  /** How retries of unprocessed batch items wait. @default setTimeout */
  readonly sleep?: Sleep;
}

/**
 * The ledger in one DynamoDB table (see `ItemKey` for the items): for the Lambdas. Conditional
 * writes deduplicate events, throttle pull writes and guard the budget; TTL (`expiresAt`) drops
 * archives, pending plans and long-gone manifests, and reads ignore what TTL has not deleted yet.
 */
export class DynamoDbLedgerStore implements LedgerStore {
  private readonly context: TableContext;
  private readonly ownsClient: boolean;
  private readonly archiveRetentionMs: number;

  public constructor(config: DynamoDbLedgerConfig) {
    if (!config.tableName) throw new LedgerInputError('the DynamoDB ledger needs a table name');
    this.ownsClient = config.client === undefined;
    this.context = {
      client: config.client ?? new DynamoDBClient(config.clientConfig ?? {}),
      table: config.tableName,
      now: config.now ?? systemClock,
      ...(config.sleep && { sleep: config.sleep }),
    };
    this.archiveRetentionMs = config.archiveRetentionMs ?? ARCHIVE_RETENTION_MS;
  }

  public async recordEvents(
    events: readonly LedgerEvent[],
    options: RecordEventsOptions = {},
  ): Promise<RecordEventsResult> {
    return this.guard('recordEvents', () => recordEvents(this.context, events, options));
  }

  public async getManifests(
    repository: string,
    digests: readonly Digest[],
  ): Promise<Map<Digest, LedgerManifest>> {
    return this.guard('getManifests', async () => {
      const keys = [...new Set(digests)].map((digest) => this.manifestKey(repository, digest));
      const items = await batchGet(this.context.client, this.context.table, keys, this.context.sleep);
      return new Map(items.map(manifestFromItem).map((manifest) => [manifest.digest, manifest]));
    });
  }

  public async putFacts(repository: string, facts: readonly ManifestFacts[]): Promise<void> {
    for (const fact of facts) {
      if (!isDigest(fact.digest)) throw new LedgerInputError(`'${fact.digest}' is not a digest`);
    }
    const recordedAt = this.context.now().getTime();
    await this.guard('putFacts', () =>
      // An update, not a batch put: the item also holds push and pull times that must stay.
      forEachLimited(facts, RECORD_CONCURRENCY, async (fact) => {
        const body = keptBody(fact);
        const values: Item = {
          mediaType: to.s(fact.mediaType),
          size: to.n(fact.size),
          factsRecordedAt: to.n(recordedAt),
          ...(fact.created && { created: to.n(fact.created.getTime()) }),
          ...(fact.children && { children: to.strings(fact.children) }),
          ...(fact.subject && { subject: to.s(fact.subject) }),
          ...(fact.configDigest && { configDigest: to.s(fact.configDigest) }),
          ...(fact.blobSizes && { blobSizes: to.numbers(fact.blobSizes) }),
          ...(body && { body: to.b(body) }),
        };
        const absent = ['created', 'children', 'subject', 'configDigest', 'blobSizes', 'body'].filter(
          (name) => !(name in values),
        );
        const set = Object.keys(values).map((name) => `#${name} = :${name}`);
        await this.context.client.send(
          new UpdateItemCommand({
            TableName: this.context.table,
            Key: this.manifestKey(repository, fact.digest),
            UpdateExpression: `SET ${set.join(', ')}${absent.length ? ` REMOVE ${absent.map((n) => `#${n}`).join(', ')}` : ''}`,
            ExpressionAttributeNames: names(...Object.keys(values), ...absent),
            ExpressionAttributeValues: Object.fromEntries(
              Object.entries(values).map(([n, v]) => [`:${n}`, v]),
            ),
          }),
        );
      }),
    );
  }

  public async listManifests(repository: string): Promise<LedgerManifest[]> {
    return this.guard('listManifests', async () =>
      (
        await queryItems(this.context, {
          pk: ItemKey.repository(repository),
          prefix: SortPrefix.manifest,
          filter: { expression: 'attribute_not_exists(#goneAt)', names: names('goneAt') },
        })
      ).map(manifestFromItem),
    );
  }

  public async listTags(repository: string): Promise<LedgerTag[]> {
    return this.guard('listTags', async () =>
      (await queryItems(this.context, { pk: ItemKey.repository(repository), prefix: SortPrefix.tag })).map(
        tagFromItem,
      ),
    );
  }

  public async getTag(repository: string, tag: string): Promise<LedgerTag | undefined> {
    return this.guard('getTag', async () => {
      const item = await getItem(this.context, ItemKey.repository(repository), ItemKey.tag(tag));
      return item && tagFromItem(item);
    });
  }

  public async history(
    subject: HistorySubject,
    options: { readonly limit?: number } = {},
  ): Promise<HistoryEntry[]> {
    const conditions = [
      ...(subject.tag !== undefined ? ['#tag = :tag'] : []),
      ...(subject.digest !== undefined ? ['#digest = :digest'] : []),
    ];
    const filter = conditions.length
      ? {
          expression: conditions.join(' AND '),
          names: names(
            ...(subject.tag !== undefined ? ['tag'] : []),
            ...(subject.digest !== undefined ? ['digest'] : []),
          ),
          values: {
            ...(subject.tag !== undefined && { ':tag': to.s(subject.tag) }),
            ...(subject.digest !== undefined && { ':digest': to.s(subject.digest) }),
          },
        }
      : undefined;
    return this.guard('history', async () =>
      (
        await queryItems(this.context, {
          pk: ItemKey.repository(subject.repository),
          prefix: SortPrefix.history,
          newestFirst: true,
          ...(filter && { filter }),
          ...(options.limit !== undefined && { limit: options.limit }),
        })
      ).map(historyFromItem),
    );
  }

  public async createRun(run: NewRun): Promise<LedgerRun> {
    checkBudget(run.budget);
    return this.guard('createRun', () => createRun(this.context, run));
  }

  public async reserveBudget(runId: string, count: number): Promise<boolean> {
    checkReservation(count);
    return this.guard('reserveBudget', () => reserveBudget(this.context, runId, count));
  }

  public async getRun(runId: string): Promise<LedgerRun | undefined> {
    return this.guard('getRun', async () => {
      const item = await getItem(this.context, ItemKey.run(runId), ItemKey.runSort);
      return item && runFromItem(item);
    });
  }

  public async archiveRemoval(removal: NewRemoval): Promise<LedgerRemoval> {
    checkRemoval(removal, DYNAMODB_MAX_ARCHIVE_BODY_BYTES);
    const archived: LedgerRemoval = {
      ...removal,
      tags: [...removal.tags],
      body: new Uint8Array(removal.body),
      expiresAt: archiveExpiry(removal.removedAt, this.archiveRetentionMs),
    };
    return this.guard('archiveRemoval', async () => {
      await archiveRemoval(this.context, archived);
      return archived;
    });
  }

  public async listRemovals(runId: string): Promise<LedgerRemoval[]> {
    return this.guard('listRemovals', () => listRemovals(this.context, runId));
  }

  public async latestRemovalOfTag(repository: string, tag: string): Promise<LedgerRemoval | undefined> {
    return this.guard('latestRemovalOfTag', () => latestRemovalOfTag(this.context, repository, tag));
  }

  public async savePendingPlan(plan: PendingPlan): Promise<LedgerPendingPlan> {
    const saved = keptPendingPlan(plan);
    return this.guard('savePendingPlan', async () => {
      await savePendingPlan(this.context, saved);
      return saved;
    });
  }

  public async getPendingPlan(id: string): Promise<LedgerPendingPlan | undefined> {
    return this.guard('getPendingPlan', () => getPendingPlan(this.context, id));
  }

  public async close(): Promise<void> {
    if (this.ownsClient) this.context.client.destroy();
  }

  private manifestKey(repository: string, digest: Digest): Item {
    return { pk: to.s(ItemKey.repository(repository)), sk: to.s(ItemKey.manifest(digest)) };
  }

  /** Runs an operation; an SDK failure becomes a LedgerUnavailableError naming the table. */
  private async guard<T>(operation: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (error instanceof LedgerError) throw error;
      const { name, message } = error as Error;
      throw new LedgerUnavailableError(
        `the ledger table '${this.context.table}' failed ${operation}: ${name}: ${message}`,
        { cause: error },
      );
    }
  }
}
