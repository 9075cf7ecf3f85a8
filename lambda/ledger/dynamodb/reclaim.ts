import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';

import { LedgerRunExistsError, LedgerRunNotFoundError } from '../errors';
import type { LedgerRemoval, LedgerRun, NewRun } from '../records';
import { historyKey } from '../rules';
import { epochSeconds, from, names, to } from './attributes';
import { batchWrite } from './batch';
import { conditionally, type TableContext } from './context';
import { removalFromItem } from './items';
import { ItemKey, SortPrefix } from './keys';
import { getItem, queryItems, unexpired } from './reads';

/** Creates the run item; `remaining` mirrors the budget so that a condition can guard it. */
export async function createRun(context: TableContext, run: NewRun): Promise<LedgerRun> {
  const created = await conditionally(() =>
    context.client.send(
      new PutItemCommand({
        TableName: context.table,
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
}

/**
 * One conditional update: `remaining >= :count` is `used + count <= budget`, checked and applied
 * atomically. When it is refused, a read tells a full budget from a missing run or a run without
 * a budget (which is counted, never refused).
 */
export async function reserveBudget(context: TableContext, runId: string, count: number): Promise<boolean> {
  const reserve = (expression: string, condition: string) =>
    conditionally(() =>
      context.client.send(
        new UpdateItemCommand({
          TableName: context.table,
          Key: { pk: to.s(ItemKey.run(runId)), sk: to.s(ItemKey.runSort) },
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: names('used', 'remaining'),
          ExpressionAttributeValues: { ':count': to.n(count) },
        }),
      ),
    );
  const budgeted = 'SET #used = #used + :count, #remaining = #remaining - :count';
  if (await reserve(budgeted, 'attribute_exists(#remaining) AND #remaining >= :count')) return true;
  const run = await getItem(context, ItemKey.run(runId), ItemKey.runSort);
  if (!run) throw new LedgerRunNotFoundError(runId);
  if (run.remaining !== undefined) return false;
  return reserve('SET #used = #used + :count', 'attribute_exists(pk) AND attribute_not_exists(#remaining)');
}

/**
 * Puts the archive item, then its history entries and one pointer per tag (so that
 * `restore REPO:TAG` finds the newest archive with one query), all with the TTL attribute.
 */
export async function archiveRemoval(context: TableContext, archived: LedgerRemoval): Promise<void> {
  const expiresAt = to.n(epochSeconds(archived.expiresAt));
  const repositoryKey = to.s(ItemKey.repository(archived.repository));
  await context.client.send(
    new PutItemCommand({
      TableName: context.table,
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
  await batchWrite(context.client, context.table, [...history, ...pointers], context.sleep);
}

/** The run's unexpired archives, by repository then digest (the sort key's order). */
export async function listRemovals(context: TableContext, runId: string): Promise<LedgerRemoval[]> {
  const items = await queryItems(context, {
    pk: ItemKey.run(runId),
    prefix: SortPrefix.removal,
    filter: unexpired(context),
  });
  return items.map(removalFromItem);
}

/** Follows the tag's newest unexpired pointer to its archive. */
export async function latestRemovalOfTag(
  context: TableContext,
  repository: string,
  tag: string,
): Promise<LedgerRemoval | undefined> {
  const pointers = await queryItems(context, {
    pk: ItemKey.repository(repository),
    prefix: ItemKey.tagArchivePrefix(tag),
    newestFirst: true,
    filter: unexpired(context),
  });
  for (const pointer of pointers) {
    const runId = from.s(pointer, 'runId') as string;
    const digest = from.s(pointer, 'digest') as string;
    const item = await getItem(context, ItemKey.run(runId), ItemKey.removal(repository, digest));
    const removal = item && removalFromItem(item);
    // The archive may have been replaced by a later one of the same run without this tag.
    if (removal && removal.tags.includes(tag) && removal.expiresAt.getTime() > context.now().getTime())
      return removal;
  }
  return undefined;
}
