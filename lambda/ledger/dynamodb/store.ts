import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type DynamoDBClientConfig,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';

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
  LedgerRemoval,
  LedgerRun,
  LedgerTag,
  ManifestFacts,
  NewRemoval,
  NewRun,
  RecordEventsOptions,
  RecordEventsResult,
} from '../records';
import {
  ARCHIVE_RETENTION_MS,
  archiveExpiry,
  checkBudget,
  checkRemoval,
  checkReservation,
  historyKey,
  systemClock,
  type LedgerClock,
} from '../rules';
import type { LedgerStore } from '../store';
import { epochSeconds, from, names, to, type Item } from './attributes';
import { batchGet, batchWrite, forEachLimited, type Sleep } from './batch';
import { conditionally, type TableContext } from './context';
import { historyFromItem, manifestFromItem, removalFromItem, runFromItem, tagFromItem } from './items';
import { ItemKey, SortPrefix } from './keys';
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
 * archives and long-gone manifests, and reads ignore what TTL has not deleted yet.
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
        const values: Item = {
          mediaType: to.s(fact.mediaType),
          size: to.n(fact.size),
          factsRecordedAt: to.n(recordedAt),
          ...(fact.created && { created: to.n(fact.created.getTime()) }),
          ...(fact.children && { children: to.strings(fact.children) }),
          ...(fact.subject && { subject: to.s(fact.subject) }),
          ...(fact.configDigest && { configDigest: to.s(fact.configDigest) }),
          ...(fact.blobSizes && { blobSizes: to.numbers(fact.blobSizes) }),
        };
        const absent = ['created', 'children', 'subject', 'configDigest', 'blobSizes'].filter(
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
        await this.query({
          pk: ItemKey.repository(repository),
          prefix: SortPrefix.manifest,
          filter: { expression: 'attribute_not_exists(#goneAt)', names: names('goneAt') },
        })
      ).map(manifestFromItem),
    );
  }

  public async listTags(repository: string): Promise<LedgerTag[]> {
    return this.guard('listTags', async () =>
      (await this.query({ pk: ItemKey.repository(repository), prefix: SortPrefix.tag })).map(tagFromItem),
    );
  }

  public async getTag(repository: string, tag: string): Promise<LedgerTag | undefined> {
    return this.guard('getTag', async () => {
      const item = await this.get(ItemKey.repository(repository), ItemKey.tag(tag));
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
        await this.query({
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
    return this.guard('createRun', async () => {
      const created = await conditionally(() =>
        this.context.client.send(
          new PutItemCommand({
            TableName: this.context.table,
            Item: {
              pk: to.s(ItemKey.run(run.runId)),
              sk: to.s(ItemKey.runSort),
              trigger: to.s(run.trigger),
              startedAt: to.n(run.startedAt.getTime()),
              used: to.n(0),
              // DynamoDB conditions cannot add (`used + :n <= budget`): what is left is kept instead.
              ...(run.budget !== undefined && { budget: to.n(run.budget), remaining: to.n(run.budget) }),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
      if (!created) throw new LedgerRunExistsError(run.runId);
      return { ...run, used: 0 };
    });
  }

  public async reserveBudget(runId: string, count: number): Promise<boolean> {
    checkReservation(count);
    return this.guard('reserveBudget', async () => {
      const reserve = (expression: string, condition: string) =>
        conditionally(() =>
          this.context.client.send(
            new UpdateItemCommand({
              TableName: this.context.table,
              Key: { pk: to.s(ItemKey.run(runId)), sk: to.s(ItemKey.runSort) },
              UpdateExpression: expression,
              ConditionExpression: condition,
              ExpressionAttributeNames: names('used', 'remaining'),
              ExpressionAttributeValues: { ':count': to.n(count) },
            }),
          ),
        );
      // `remaining >= :count` is `used + count <= budget`, checked and applied in one write.
      const budgeted = 'SET #used = #used + :count, #remaining = #remaining - :count';
      if (await reserve(budgeted, 'attribute_exists(#remaining) AND #remaining >= :count')) return true;
      const run = await this.get(ItemKey.run(runId), ItemKey.runSort);
      if (!run) throw new LedgerRunNotFoundError(runId);
      if (run.remaining !== undefined) return false;
      // A run without a budget: count, never refuse.
      return reserve(
        'SET #used = #used + :count',
        'attribute_exists(pk) AND attribute_not_exists(#remaining)',
      );
    });
  }

  public async getRun(runId: string): Promise<LedgerRun | undefined> {
    return this.guard('getRun', async () => {
      const item = await this.get(ItemKey.run(runId), ItemKey.runSort);
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
    const expiresAt = to.n(epochSeconds(archived.expiresAt));
    const repositoryKey = to.s(ItemKey.repository(archived.repository));
    return this.guard('archiveRemoval', async () => {
      await this.context.client.send(
        new PutItemCommand({
          TableName: this.context.table,
          Item: {
            pk: to.s(ItemKey.run(archived.runId)),
            sk: to.s(ItemKey.removal(archived.repository, archived.digest)),
            repository: to.s(archived.repository),
            digest: to.s(archived.digest),
            tags: to.strings(archived.tags),
            mediaType: to.s(archived.mediaType),
            body: to.b(archived.body),
            removedAt: to.n(archived.removedAt.getTime()),
            reason: to.s(archived.reason),
            expiresAt,
          },
        }),
      );
      const history = (archived.tags.length > 0 ? archived.tags : [undefined]).map((tag) => ({
        PutRequest: {
          Item: {
            pk: repositoryKey,
            sk: to.s(
              ItemKey.history(
                historyKey(archived.removedAt, 'archive', archived.runId, archived.digest, tag ?? ''),
              ),
            ),
            at: to.n(archived.removedAt.getTime()),
            kind: to.s('archive'),
            digest: to.s(archived.digest),
            runId: to.s(archived.runId),
            reason: to.s(archived.reason),
            ...(tag !== undefined && { tag: to.s(tag) }),
          },
        },
      }));
      // One pointer per tag, so that `restore REPO:TAG` finds the newest archive with one query.
      const pointers = archived.tags.map((tag) => ({
        PutRequest: {
          Item: {
            pk: repositoryKey,
            sk: to.s(ItemKey.tagArchive(tag, archived.removedAt, archived.runId, archived.digest)),
            runId: to.s(archived.runId),
            digest: to.s(archived.digest),
            expiresAt,
          },
        },
      }));
      await batchWrite(
        this.context.client,
        this.context.table,
        [...history, ...pointers],
        this.context.sleep,
      );
      return archived;
    });
  }

  public async listRemovals(runId: string): Promise<LedgerRemoval[]> {
    return this.guard('listRemovals', async () =>
      (
        await this.query({ pk: ItemKey.run(runId), prefix: SortPrefix.removal, filter: this.unexpired() })
      ).map(removalFromItem),
    );
  }

  public async latestRemovalOfTag(repository: string, tag: string): Promise<LedgerRemoval | undefined> {
    return this.guard('latestRemovalOfTag', async () => {
      const pointers = await this.query({
        pk: ItemKey.repository(repository),
        prefix: ItemKey.tagArchivePrefix(tag),
        newestFirst: true,
        filter: this.unexpired(),
      });
      for (const pointer of pointers) {
        const runId = from.s(pointer, 'runId') as string;
        const digest = from.s(pointer, 'digest') as string;
        const item = await this.get(ItemKey.run(runId), ItemKey.removal(repository, digest));
        const removal = item && removalFromItem(item);
        // The archive may have been replaced by a later one of the same run without this tag.
        if (
          removal &&
          removal.tags.includes(tag) &&
          removal.expiresAt.getTime() > this.context.now().getTime()
        )
          return removal;
      }
      return undefined;
    });
  }

  public async close(): Promise<void> {
    if (this.ownsClient) this.context.client.destroy();
  }

  private manifestKey(repository: string, digest: Digest): Item {
    return { pk: to.s(ItemKey.repository(repository)), sk: to.s(ItemKey.manifest(digest)) };
  }

  /** Items TTL has not deleted yet but that have expired are left out (TTL deletes lazily). */
  private unexpired(): QueryFilter {
    return {
      expression: '#expiresAt > :now',
      names: names('expiresAt'),
      values: { ':now': to.n(Math.floor(this.context.now().getTime() / 1000)) },
    };
  }

  private async get(pk: string, sk: string): Promise<Item | undefined> {
    const answer = await this.context.client.send(
      new GetItemCommand({
        TableName: this.context.table,
        Key: { pk: to.s(pk), sk: to.s(sk) },
        ConsistentRead: true,
      }),
    );
    return answer.Item;
  }

  /** Every item of a partition whose sort key starts with `prefix` (filtered), page after page. */
  private async query(options: {
    pk: string;
    prefix: string;
    newestFirst?: boolean;
    filter?: QueryFilter;
    limit?: number;
  }): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const input: QueryCommandInput = {
        TableName: this.context.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: {
          ':pk': to.s(options.pk),
          ':prefix': to.s(options.prefix),
          ...options.filter?.values,
        },
        ConsistentRead: true,
        ScanIndexForward: !options.newestFirst,
        ...(options.filter && {
          FilterExpression: options.filter.expression,
          ExpressionAttributeNames: options.filter.names,
        }),
        ...(start && { ExclusiveStartKey: start }),
      };
      const page = await this.context.client.send(new QueryCommand(input));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start && (options.limit === undefined || items.length < options.limit));
    return options.limit === undefined ? items : items.slice(0, options.limit);
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

interface QueryFilter {
  readonly expression: string;
  readonly names: Record<string, string>;
  readonly values?: Item;
}
