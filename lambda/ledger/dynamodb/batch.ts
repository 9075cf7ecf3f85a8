import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type BatchGetItemCommandOutput,
  type BatchWriteItemCommandOutput,
  type DynamoDBClient,
  type KeysAndAttributes,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';

import { LedgerUnavailableError } from '../errors';
import type { Item } from './attributes';

/** DynamoDB's limit of keys per BatchGetItem. */
export const BATCH_GET_MAX_KEYS = 100;
/** DynamoDB's limit of requests per BatchWriteItem. */
export const BATCH_WRITE_MAX_REQUESTS = 25;
/** Calls per batch (the first and its retries of unprocessed items) before giving up. */
export const BATCH_MAX_ATTEMPTS = 8;
/** The first retry's delay; each next one doubles, with full jitter. */
export const BATCH_RETRY_BASE_DELAY_MS = 50;

/** How a batch waits between retries of unprocessed items; injected so that tests need not wait. */
export type Sleep = (ms: number) => Promise<void>;

const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Splits `values` into chunks of at most `size`. */
export function chunks<T>(values: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < values.length; start += size) result.push(values.slice(start, start + size));
  return result;
}

/**
 * Gets `keys` from `table` (consistent reads), 100 per call, retrying the keys DynamoDB leaves
 * unprocessed (throttling, 16 MB answers) with exponential backoff.
 */
export async function batchGet(
  client: DynamoDBClient,
  table: string,
  keys: readonly Item[],
  sleep: Sleep = realSleep,
): Promise<Item[]> {
  const found: Item[] = [];
  for (const chunk of chunks(keys, BATCH_GET_MAX_KEYS)) {
    let pending: KeysAndAttributes | undefined = { Keys: chunk, ConsistentRead: true };
    for (let attempt = 1; pending?.Keys?.length; attempt += 1) {
      if (attempt > BATCH_MAX_ATTEMPTS) {
        throw new LedgerUnavailableError(
          `the ledger table '${table}' left ${pending.Keys.length} keys unprocessed after ${BATCH_MAX_ATTEMPTS} BatchGetItem calls`,
        );
      }
      if (attempt > 1) await sleep(backoffMs(attempt));
      const answer: BatchGetItemCommandOutput = await client.send(
        new BatchGetItemCommand({ RequestItems: { [table]: pending } }),
      );
      found.push(...(answer.Responses?.[table] ?? []));
      pending = answer.UnprocessedKeys?.[table];
    }
  }
  return found;
}

/** Writes `requests` to `table`, 25 per call, retrying unprocessed items with exponential backoff. */
export async function batchWrite(
  client: DynamoDBClient,
  table: string,
  requests: readonly WriteRequest[],
  sleep: Sleep = realSleep,
): Promise<void> {
  for (const chunk of chunks(requests, BATCH_WRITE_MAX_REQUESTS)) {
    let pending: WriteRequest[] | undefined = chunk;
    for (let attempt = 1; pending?.length; attempt += 1) {
      if (attempt > BATCH_MAX_ATTEMPTS) {
        throw new LedgerUnavailableError(
          `the ledger table '${table}' left ${pending.length} writes unprocessed after ${BATCH_MAX_ATTEMPTS} BatchWriteItem calls`,
        );
      }
      if (attempt > 1) await sleep(backoffMs(attempt));
      const answer: BatchWriteItemCommandOutput = await client.send(
        new BatchWriteItemCommand({ RequestItems: { [table]: pending } }),
      );
      pending = answer.UnprocessedItems?.[table];
    }
  }
}

/** Full jitter: a random delay up to base × 2^(attempt - 2). */
function backoffMs(attempt: number): number {
  return Math.random() * BATCH_RETRY_BASE_DELAY_MS * 2 ** (attempt - 2);
}

/** Runs `task` over `values` with at most `limit` running at once; rejects with the first failure. */
export async function forEachLimited<T>(
  values: readonly T[],
  limit: number,
  task: (value: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, values.length) }, async () => {
    while (next < values.length) {
      const value = values[next] as T;
      next += 1;
      await task(value);
    }
  });
  await Promise.all(workers);
}
