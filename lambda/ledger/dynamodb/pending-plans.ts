import type { WriteRequest } from '@aws-sdk/client-dynamodb';

import type { LedgerPendingPlan } from '../records';
import { epochSeconds, from, to } from './attributes';
import { batchWrite } from './batch';
import type { TableContext } from './context';
import { ItemKey, SortPrefix } from './keys';
import { queryItems, unexpired } from './reads';

/**
 * The most body bytes one pending-plan item holds. A plan has any size and DynamoDB's item limit
 * is 400 KB, names and values counted, so the body is split: a chunk's keys and numbers fit in
 * what is left, and 25 chunks (one BatchWriteItem) stay under the 16 MB a request may carry.
 */
export const PENDING_PLAN_CHUNK_BYTES = 350 * 1024;

/**
 * Puts one item per chunk of the body, each with the repository, `savedAt`, the count of chunks
 * and the TTL attribute; then deletes the chunks an earlier save of the same id left beyond the
 * new ones. Not atomic: until it ends (or after it failed half way) the chunks disagree, which
 * {@link getPendingPlan} reads as no plan; saving again repairs it.
 */
export async function savePendingPlan(context: TableContext, saved: LedgerPendingPlan): Promise<void> {
  const pk = ItemKey.pendingPlan(saved.id);
  // Keys only: the earlier body is not needed, only which of its chunks to delete.
  const earlier = await queryItems(context, { pk, prefix: SortPrefix.pendingPlanChunk, projection: ['sk'] });
  const count = Math.ceil(saved.body.byteLength / PENDING_PLAN_CHUNK_BYTES);
  const keys = Array.from({ length: count }, (_, index) => ItemKey.pendingPlanChunk(index));
  const puts: WriteRequest[] = keys.map((sk, index) => ({
    PutRequest: {
      Item: {
        pk: to.s(pk),
        sk: to.s(sk),
        repository: to.s(saved.repository),
        savedAt: to.n(saved.savedAt.getTime()),
        expiresAt: to.n(epochSeconds(saved.expiresAt)),
        chunks: to.n(count),
        body: to.b(
          saved.body.subarray(index * PENDING_PLAN_CHUNK_BYTES, (index + 1) * PENDING_PLAN_CHUNK_BYTES),
        ),
      },
    },
  }));
  const current = new Set(keys);
  const stale: WriteRequest[] = earlier
    .map((item) => from.s(item, 'sk') as string)
    .filter((sk) => !current.has(sk))
    .map((sk) => ({ DeleteRequest: { Key: { pk: to.s(pk), sk: to.s(sk) } } }));
  await batchWrite(context.client, context.table, puts, context.sleep);
  await batchWrite(context.client, context.table, stale, context.sleep);
}

/**
 * The plan `id`, its chunks joined in order, or undefined: no chunk, expired ones (TTL deletes
 * within days, not at once), or chunks that no single save wrote whole (one missing, a stale one
 * left, or chunks of two saves that disagree on `savedAt` or their count): a save under way or
 * one that failed half way.
 */
export async function getPendingPlan(
  context: TableContext,
  id: string,
): Promise<LedgerPendingPlan | undefined> {
  const items = await queryItems(context, {
    pk: ItemKey.pendingPlan(id),
    prefix: SortPrefix.pendingPlanChunk,
    filter: unexpired(context),
  });
  const [first] = items;
  if (first === undefined) return undefined;
  const count = from.n(first, 'chunks');
  const savedAt = from.n(first, 'savedAt');
  const whole =
    savedAt !== undefined &&
    items.length === count &&
    items.every(
      (item, index) =>
        from.s(item, 'sk') === ItemKey.pendingPlanChunk(index) &&
        from.n(item, 'chunks') === count &&
        from.n(item, 'savedAt') === savedAt,
    );
  if (!whole) return undefined;
  const parts = items.map((item) => from.b(item, 'body') ?? new Uint8Array());
  const body = new Uint8Array(parts.reduce((total, part) => total + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    body.set(part, offset);
    offset += part.byteLength;
  }
  return {
    id,
    repository: from.s(first, 'repository') as string,
    body,
    savedAt: new Date(savedAt),
    expiresAt: new Date((from.n(first, 'expiresAt') ?? 0) * 1000),
  };
}
