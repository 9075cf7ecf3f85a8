import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  paginateQuery,
  PutItemCommand,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';

import { sha256Digest, type Digest } from '../../../lambda/domain';
import {
  DynamoDbLedgerStore,
  GONE_MANIFEST_RETENTION_MS,
  LEDGER_TABLE_KEYS,
  LedgerUnavailableError,
  PENDING_PLAN_RETENTION_MS,
} from '../../../lambda/ledger';
import type { Item } from '../../../lambda/ledger/dynamodb/attributes';
import { BATCH_MAX_ATTEMPTS } from '../../../lambda/ledger/dynamodb/batch';
import { PENDING_PLAN_CHUNK_BYTES } from '../../../lambda/ledger/dynamodb/pending-plans';
import { freePort, LOOPBACK_HOST } from '../../../tools/ports';
import { startDynalite, type Dynalite } from '../../../tools/dynalite';
import { describeLedgerContract, TestClock } from './contract';
import { pseudoRandomBytes } from './fixtures';

let dynalite: Dynalite;
let tables = 0;
/** A fresh ledger table for each store: tests never see each other's items. */
const newTable = async () => {
  const name = `regsweep-ledger-${(tables += 1)}`;
  await dynalite.createLedgerTable(name);
  return name;
};

beforeAll(async () => {
  dynalite = await startDynalite();
});

afterAll(async () => {
  await dynalite?.stop();
});

describeLedgerContract('DynamoDB', () => ({
  open: async (options) =>
    new DynamoDbLedgerStore({ tableName: await newTable(), clientConfig: dynalite.clientConfig, ...options }),
}));

const AT = Date.parse('2026-11-28T10:00:00.000Z');
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

type Output = Record<string, unknown> & {
  Responses?: Record<string, Record<string, unknown>[]>;
  UnprocessedKeys?: Record<string, { Keys: unknown[] }>;
  UnprocessedItems?: Record<string, unknown[]>;
};

/**
 * A real client whose BatchGetItem and BatchWriteItem answers are rewritten after dynalite
 * answered, as DynamoDB does under throttling: `unprocessed(call)` says how many of the call's
 * items to report unprocessed (writes are reported unprocessed although done: puts are idempotent).
 */
function throttlingClient(config: DynamoDBClientConfig, unprocessed: (call: number) => number) {
  const client = new DynamoDBClient(config);
  const calls = { BatchGetItemCommand: 0, BatchWriteItemCommand: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const command = context.commandName as keyof typeof calls;
      if (!(command in calls)) return result;
      calls[command] += 1;
      const output = result.output as unknown as Output;
      const input = (args.input as { RequestItems: Record<string, unknown> }).RequestItems;
      const [table] = Object.keys(input) as [string];
      const count = unprocessed(calls[command]);
      if (command === 'BatchGetItemCommand') {
        const items = output.Responses?.[table] ?? [];
        const moved = items.splice(0, Math.min(count, items.length));
        if (moved.length > 0)
          output.UnprocessedKeys = { [table]: { Keys: moved.map(({ pk, sk }) => ({ pk, sk })) } };
      } else {
        const requests = input[table] as unknown[];
        if (count > 0) output.UnprocessedItems = { [table]: requests.slice(0, count) };
      }
      return result;
    },
    { step: 'initialize', name: 'throttleBatches' },
  );
  return { client, calls };
}

describe('Class: DynamoDbLedgerStore', () => {
  describe('Method: getManifests', () => {
    it('retries the keys DynamoDB leaves unprocessed until every one is read', async () => {
      // Prepare: every BatchGetItem answer leaves 30 keys unprocessed, until the fifth call
      const tableName = await newTable();
      const { client, calls } = throttlingClient(dynalite.clientConfig, (call) => (call < 5 ? 30 : 0));
      const delays: number[] = [];
      const store = new DynamoDbLedgerStore({
        tableName,
        client,
        sleep: async (ms) => {
          delays.push(ms);
        },
      });
      const digests = Array.from({ length: 150 }, (_, index) => sha256Digest(`manifest-${index}`));
      await store.putFacts(
        'apps/web',
        digests.map((digest) => ({ digest, mediaType: OCI_MANIFEST, size: 7 })),
      );

      // Act
      const found = await store.getManifests('apps/web', digests);

      // Assess
      expect(found.size).toBe(150);
      expect(calls.BatchGetItemCommand).toBeGreaterThanOrEqual(5);
      expect(delays.length).toBe(calls.BatchGetItemCommand - 2);
      client.destroy();
    });

    it('gives up with LedgerUnavailableError when keys stay unprocessed', async () => {
      // Prepare
      const tableName = await newTable();
      const { client, calls } = throttlingClient(dynalite.clientConfig, () => 1);
      const store = new DynamoDbLedgerStore({ tableName, client, sleep: async () => undefined });
      const digest = sha256Digest('manifest');
      await store.putFacts('apps/web', [{ digest, mediaType: OCI_MANIFEST, size: 7 }]);

      // Act & Assess
      await expect(store.getManifests('apps/web', [digest])).rejects.toThrow(
        new LedgerUnavailableError(
          `the ledger table '${tableName}' left 1 keys unprocessed after ${BATCH_MAX_ATTEMPTS} BatchGetItem calls`,
        ),
      );
      expect(calls.BatchGetItemCommand).toBe(BATCH_MAX_ATTEMPTS);
      client.destroy();
    });
  });

  describe('Method: recordEvents', () => {
    it('retries history writes DynamoDB leaves unprocessed', async () => {
      // Prepare: the first two BatchWriteItem answers report 10 writes unprocessed
      const tableName = await newTable();
      const { client, calls } = throttlingClient(dynalite.clientConfig, (call) => (call <= 2 ? 10 : 0));
      const store = new DynamoDbLedgerStore({ tableName, client, sleep: async () => undefined });
      const events = Array.from({ length: 30 }, (_, index) => ({
        id: `event-${index}`,
        action: 'push' as const,
        repository: 'apps/web',
        digest: sha256Digest(`manifest-${index}`),
        timestamp: new Date(AT + index),
      }));

      // Act
      const result = await store.recordEvents(events);

      // Assess
      expect(result.recorded).toBe(30);
      expect(await store.history({ repository: 'apps/web' })).toHaveLength(30);
      expect(calls.BatchWriteItemCommand).toBe(4);
      client.destroy();
    });

    it('puts an expiresAt (epoch seconds) on a gone manifest for TTL, and a later push takes it off', async () => {
      // Prepare
      const tableName = await newTable();
      const client = dynalite.client();
      const store = new DynamoDbLedgerStore({ tableName, client });
      const digest = sha256Digest('manifest');
      const event = (id: string, action: 'push' | 'delete', at: number) => ({
        id,
        action,
        repository: 'apps/web',
        digest,
        timestamp: new Date(at),
      });
      const item = async () =>
        (
          await client.send(
            new GetItemCommand({
              TableName: tableName,
              Key: { pk: { S: 'R#apps/web' }, sk: { S: `M#${digest}` } },
            }),
          )
        ).Item;

      // Act & Assess
      await store.recordEvents([event('push-1', 'push', AT), event('delete-1', 'delete', AT + 1000)]);
      expect((await item())?.[LEDGER_TABLE_KEYS.timeToLiveAttribute]).toEqual({
        N: String(Math.ceil((AT + 1000 + GONE_MANIFEST_RETENTION_MS) / 1000)),
      });
      await store.recordEvents([event('push-2', 'push', AT + 2000)]);
      expect((await item())?.[LEDGER_TABLE_KEYS.timeToLiveAttribute]).toBeUndefined();
      client.destroy();
    });
  });

  describe('Method: archiveRemoval', () => {
    it('stores the archive with its expiry as epoch seconds in the TTL attribute', async () => {
      // Prepare
      const tableName = await newTable();
      const client = dynalite.client();
      const clock = new TestClock('2026-11-28T10:00:00.250Z');
      const store = new DynamoDbLedgerStore({ tableName, client, now: clock.now });
      const digest = sha256Digest('manifest');

      // Act
      const archived = await store.archiveRemoval({
        runId: 'run-1',
        repository: 'apps/web',
        digest,
        tags: [],
        mediaType: OCI_MANIFEST,
        body: new Uint8Array([0, 255, 1]),
        removedAt: clock.now(),
        reason: 'untagged for 2d',
      });

      // Assess
      const { Item } = await client.send(
        new GetItemCommand({
          TableName: tableName,
          Key: { pk: { S: 'RUN#run-1' }, sk: { S: `X#apps/web#${digest}` } },
        }),
      );
      expect(Item?.expiresAt).toEqual({ N: String(archived.expiresAt.getTime() / 1000) });
      expect(archived.expiresAt.getTime() % 1000).toBe(0);
      client.destroy();
    });

    it('refuses a body larger than a DynamoDB item can hold, before writing', async () => {
      // Prepare
      const store = new DynamoDbLedgerStore({
        tableName: await newTable(),
        clientConfig: dynalite.clientConfig,
      });

      // Act & Assess
      await expect(
        store.archiveRemoval({
          runId: 'run-1',
          repository: 'apps/web',
          digest: sha256Digest('big') as Digest,
          tags: ['v1'],
          mediaType: OCI_MANIFEST,
          body: new Uint8Array(400 * 1024),
          removedAt: new Date(AT),
          reason: 'older than 7d',
        }),
      ).rejects.toThrow(/larger than this ledger can archive/);
      expect(await store.listRemovals('run-1')).toEqual([]);
      await store.close();
    });
  });

  describe('Method: savePendingPlan / getPendingPlan', () => {
    /** Every item of the plan's partition, read directly, page after page (a page holds 1 MB). */
    const planItems = async (client: DynamoDBClient, tableName: string, id: string) => {
      const items: Item[] = [];
      const pages = paginateQuery(
        { client },
        {
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: `PLAN#${id}` } },
          ConsistentRead: true,
        },
      );
      for await (const page of pages) items.push(...(page.Items ?? []));
      return items;
    };

    /** A new table, a client of dynalite, and a store on both whose clock reads AT. */
    const storeAtAT = async () => {
      const tableName = await newTable();
      const client = dynalite.client();
      const store = new DynamoDbLedgerStore({
        tableName,
        client,
        now: new TestClock(new Date(AT).toISOString()).now,
      });
      return { tableName, client, store };
    };

    /** Reads chunk `sk` of plan-1 directly and puts it back changed by `change`. */
    const rewriteChunk = async (
      client: DynamoDBClient,
      tableName: string,
      sk: string,
      change: (item: Item) => Item,
    ): Promise<void> => {
      const key = { pk: { S: 'PLAN#plan-1' }, sk: { S: sk } };
      const { Item } = await client.send(new GetItemCommand({ TableName: tableName, Key: key }));
      await client.send(new PutItemCommand({ TableName: tableName, Item: change(Item ?? {}) }));
    };

    it('splits a body over items under the item limit, and deletes those a shorter save leaves over', async () => {
      // Prepare
      const { tableName, client, store } = await storeAtAT();
      const plan = {
        id: 'plan-1',
        repository: 'apps/web',
        body: pseudoRandomBytes(3 * PENDING_PLAN_CHUNK_BYTES + 1, 5),
        savedAt: new Date(AT),
      };

      // Act
      await store.savePendingPlan(plan);
      const split = await planItems(client, tableName, 'plan-1');
      await store.savePendingPlan({ ...plan, body: pseudoRandomBytes(PENDING_PLAN_CHUNK_BYTES, 6) });
      const replaced = await planItems(client, tableName, 'plan-1');

      // Assess
      expect(split.map((item) => item.sk?.S)).toEqual(['P#00000', 'P#00001', 'P#00002', 'P#00003']);
      expect(split.map((item) => item.body?.B?.byteLength)).toEqual([
        PENDING_PLAN_CHUNK_BYTES,
        PENDING_PLAN_CHUNK_BYTES,
        PENDING_PLAN_CHUNK_BYTES,
        1,
      ]);
      for (const item of split) {
        expect(item).toMatchObject({
          repository: { S: 'apps/web' },
          savedAt: { N: String(AT) },
          chunks: { N: '4' },
          [LEDGER_TABLE_KEYS.timeToLiveAttribute]: { N: String((AT + PENDING_PLAN_RETENTION_MS) / 1000) },
        });
      }
      expect(replaced.map((item) => [item.sk?.S, item.chunks?.N])).toEqual([['P#00000', '1']]);
      client.destroy();
    });

    it.each([
      [
        'one chunk is missing',
        (client: DynamoDBClient, tableName: string) =>
          client.send(
            new DeleteItemCommand({
              TableName: tableName,
              Key: { pk: { S: 'PLAN#plan-1' }, sk: { S: 'P#00001' } },
            }),
          ),
      ],
      [
        'one chunk is of another save',
        (client: DynamoDBClient, tableName: string) =>
          rewriteChunk(client, tableName, 'P#00001', (item) => ({
            ...item,
            savedAt: { N: String(AT - 1000) },
          })),
      ],
      [
        'a chunk is left beyond the count',
        (client: DynamoDBClient, tableName: string) =>
          rewriteChunk(client, tableName, 'P#00002', (item) => ({ ...item, sk: { S: 'P#00003' } })),
      ],
    ])('reads a torn plan as none when %s, and saving it again repairs it', async (_case, tear) => {
      // Prepare: a plan of three chunks
      const { tableName, client, store } = await storeAtAT();
      const plan = {
        id: 'plan-1',
        repository: 'apps/web',
        body: pseudoRandomBytes(2 * PENDING_PLAN_CHUNK_BYTES + 10, 8),
        savedAt: new Date(AT),
      };
      await store.savePendingPlan(plan);

      // Act: read it whole, tear it as a save that failed half way would, read it, save it again
      const whole = await store.getPendingPlan('plan-1');
      await tear(client, tableName);
      const torn = await store.getPendingPlan('plan-1');
      await store.savePendingPlan(plan);
      const repaired = await store.getPendingPlan('plan-1');

      // Assess
      expect(Buffer.from(whole?.body ?? []).equals(Buffer.from(plan.body))).toBe(true);
      expect(torn).toBeUndefined();
      expect(Buffer.from(repaired?.body ?? []).equals(Buffer.from(plan.body))).toBe(true);
      expect(await planItems(client, tableName, 'plan-1')).toHaveLength(3);
      client.destroy();
    });

    it('turns a DynamoDB failure into LedgerUnavailableError naming the operation', async () => {
      // Prepare: a port nothing listens on
      const port = await freePort();
      const store = new DynamoDbLedgerStore({
        tableName: 'regsweep-ledger',
        clientConfig: { ...dynalite.clientConfig, endpoint: `http://${LOOPBACK_HOST}:${port}` },
      });
      const plan = { id: 'plan-1', repository: 'apps/web', body: new Uint8Array([1]), savedAt: new Date(AT) };

      // Act
      const failures = await Promise.all([
        store.savePendingPlan(plan).catch((error: unknown) => error),
        store.getPendingPlan('plan-1').catch((error: unknown) => error),
      ]);

      // Assess
      expect(failures).toEqual([expect.any(LedgerUnavailableError), expect.any(LedgerUnavailableError)]);
      expect((failures[0] as Error).message).toMatch(
        /^the ledger table 'regsweep-ledger' failed savePendingPlan: /,
      );
      expect((failures[1] as Error).message).toMatch(
        /^the ledger table 'regsweep-ledger' failed getPendingPlan: /,
      );
      await store.close();
    });
  });

  describe('Method: constructor', () => {
    it('turns an unreachable endpoint into LedgerUnavailableError naming the table, keeping the cause', async () => {
      // Prepare: a port nothing listens on
      const port = await freePort();
      const store = new DynamoDbLedgerStore({
        tableName: 'regsweep-ledger',
        clientConfig: { ...dynalite.clientConfig, endpoint: `http://${LOOPBACK_HOST}:${port}` },
      });

      // Act
      const failure = await store.getRun('run-1').catch((error: unknown) => error);

      // Assess
      expect(failure).toBeInstanceOf(LedgerUnavailableError);
      expect((failure as Error).message).toMatch(/^the ledger table 'regsweep-ledger' failed getRun: /);
      expect((failure as Error).cause).toBeInstanceOf(Error);
      await store.close();
    });

    it('exports the key schema the table must have', () => {
      // Act & Assess
      expect(LEDGER_TABLE_KEYS).toEqual({
        partitionKey: { name: 'pk', type: 'S' },
        sortKey: { name: 'sk', type: 'S' },
        timeToLiveAttribute: 'expiresAt',
      });
    });
  });
});
