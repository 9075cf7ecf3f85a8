import {
  DeleteItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';

import type { Digest } from '../../domain';
import type { LedgerEvent, RecordEventsOptions, RecordEventsResult } from '../records';
import {
  classifyEvents,
  GONE_MANIFEST_RETENTION_MS,
  historyKey,
  PULL_RECORD_INTERVAL_MS,
  type ClassifiedEvent,
} from '../rules';
import { epochSeconds, names, to, type Item } from './attributes';
import { batchGet, batchWrite, forEachLimited } from './batch';
import { conditionally, type TableContext } from './context';
import { ItemKey, SortPrefix } from './keys';

/** Manifests updated at once by one `recordEvents` (events of one manifest go one after another). */
export const RECORD_CONCURRENCY = 16;

/**
 * Records events in three steps, so that a failure part-way loses nothing: (1) the effects, each
 * an idempotent conditional write (the newest push of a tag wins, first/last push times only
 * widen, the hourly pull condition); (2) the history entries, put by BatchWrite under keys made
 * of the event ids; (3) the dedup records, `attribute_not_exists` puts. A call that fails before
 * (3) is safely repeated by the registry's retry; a duplicate that slipped past the first check
 * (two receivers at once) is caught by the put in (3) and its effects were no-ops.
 */
export async function recordEvents(
  context: TableContext,
  events: readonly LedgerEvent[],
  options: RecordEventsOptions,
): Promise<RecordEventsResult> {
  const classified = classifyEvents(events, options.ignorePullsFrom);
  let duplicates = classified.duplicates;
  const known = await knownEventIds(
    context,
    classified.accepted.filter(({ kind }) => kind !== 'pull').map(({ event }) => event.id),
  );
  const fresh = classified.accepted.filter(({ kind, event }) => kind === 'pull' || !known.has(event.id));
  duplicates += classified.accepted.length - fresh.length;

  // One manifest's events in timestamp order; different manifests in parallel.
  const groups = new Map<string, ClassifiedEvent[]>();
  for (const entry of fresh) {
    const { repository, digest, tag } = entry.event;
    const key = `${repository}\n${digest ?? `tag:${tag}`}`;
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  const written: ClassifiedEvent[] = [];
  let throttled = 0;
  await forEachLimited([...groups.values()], RECORD_CONCURRENCY, async (group) => {
    for (const entry of group) {
      if (await applyEffect(context, entry)) written.push(entry);
      else throttled += 1;
    }
  });

  await batchWrite(context.client, context.table, written.map(historyPut), context.sleep);

  let recorded = 0;
  const seenAt = context.now().getTime();
  await forEachLimited(written, RECORD_CONCURRENCY, async ({ kind, event }) => {
    if (kind === 'pull' || (await markEvent(context, event.id, seenAt))) recorded += 1;
    else duplicates += 1;
  });
  return { recorded, duplicates, throttled, ignored: classified.ignored };
}

async function knownEventIds(context: TableContext, ids: readonly string[]): Promise<Set<string>> {
  const keys = ids.map((id) => ({ pk: to.s(ItemKey.event(id)), sk: to.s(ItemKey.eventSort) }));
  const items = await batchGet(context.client, context.table, keys, context.sleep);
  return new Set(items.map((item) => (item.pk?.S ?? '').slice('E#'.length)));
}

function markEvent(context: TableContext, id: string, seenAt: number): Promise<boolean> {
  return conditionally(() =>
    context.client.send(
      new PutItemCommand({
        TableName: context.table,
        Item: { pk: to.s(ItemKey.event(id)), sk: to.s(ItemKey.eventSort), seenAt: to.n(seenAt) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ),
  );
}

/** Writes one event's effect; false for a pull that the hourly condition refused. */
async function applyEffect(context: TableContext, { kind, event }: ClassifiedEvent): Promise<boolean> {
  const repositoryKey = to.s(ItemKey.repository(event.repository));
  const at = event.timestamp.getTime();
  const manifestKey = event.digest && { pk: repositoryKey, sk: to.s(ItemKey.manifest(event.digest)) };
  const described = {
    ...(event.mediaType !== undefined && { ':mediaType': to.s(event.mediaType) }),
    ...(event.size !== undefined && { ':size': to.n(event.size) }),
  };
  const describe = [
    ...(event.mediaType !== undefined ? ['#mediaType = if_not_exists(#mediaType, :mediaType)'] : []),
    ...(event.size !== undefined ? ['#size = if_not_exists(#size, :size)'] : []),
  ];
  const update = (expression: string, condition: string, values: Item, attributes: string[]) =>
    conditionally(() =>
      context.client.send(
        new UpdateItemCommand({
          TableName: context.table,
          Key: manifestKey as Item,
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: names(...attributes),
          ExpressionAttributeValues: values,
        }),
      ),
    );

  if (kind === 'pull') {
    return update(
      ['SET #lastPulledAt = :at', ...describe].join(', '),
      'attribute_not_exists(#lastPulledAt) OR #lastPulledAt <= :threshold',
      { ':at': to.n(at), ':threshold': to.n(at - PULL_RECORD_INTERVAL_MS), ...described },
      ['lastPulledAt', ...Object.keys(described).map((value) => value.slice(1))],
    );
  }

  if (kind === 'push') {
    const set = [
      'SET #lastPushedAt = :at',
      '#firstPushedAt = if_not_exists(#firstPushedAt, :at)',
      ...describe,
    ].join(', ');
    const attributes = [
      'lastPushedAt',
      'firstPushedAt',
      ...Object.keys(described).map((value) => value.slice(1)),
    ];
    const newest = 'attribute_not_exists(#lastPushedAt) OR #lastPushedAt <= :at';
    const values = { ':at': to.n(at), ...described };
    // The newest push so far: it also brings back a manifest an earlier delete removed.
    const revived = await update(
      `${set} REMOVE #goneAt, #expiresAt`,
      `(${newest}) AND (attribute_not_exists(#goneAt) OR #goneAt <= :at)`,
      values,
      [...attributes, 'goneAt', 'expiresAt'],
    );
    if (!revived && !(await update(set, newest, values, attributes))) {
      // An older push arriving late only moves the first push time back.
      await update('SET #firstPushedAt = :at', '#firstPushedAt > :at', { ':at': to.n(at) }, [
        'firstPushedAt',
      ]);
    }
    if (event.tag) {
      await conditionally(() =>
        context.client.send(
          new PutItemCommand({
            TableName: context.table,
            Item: {
              pk: repositoryKey,
              sk: to.s(ItemKey.tag(event.tag as string)),
              digest: to.s(event.digest as Digest),
              pushedAt: to.n(at),
            },
            ConditionExpression: 'attribute_not_exists(pk) OR #pushedAt <= :at',
            ExpressionAttributeNames: names('pushedAt'),
            ExpressionAttributeValues: { ':at': to.n(at) },
          }),
        ),
      );
    }
    return true;
  }

  // A delete: by digest, the manifest is gone with every tag on it; by tag, only that tag.
  if (event.digest) {
    await update(
      'SET #goneAt = :at, #expiresAt = :expiresAt',
      'attribute_exists(pk) AND attribute_not_exists(#goneAt) AND ' +
        '(attribute_not_exists(#lastPushedAt) OR #lastPushedAt <= :at)',
      { ':at': to.n(at), ':expiresAt': to.n(epochSeconds(at + GONE_MANIFEST_RETENTION_MS)) },
      ['goneAt', 'expiresAt', 'lastPushedAt'],
    );
    for (const tag of await tagsOfDigest(context, event.repository, event.digest)) {
      await deleteTag(context, event.repository, tag, at, event.digest);
    }
  } else if (event.tag) {
    await deleteTag(context, event.repository, event.tag, at);
  }
  return true;
}

async function tagsOfDigest(context: TableContext, repository: string, digest: Digest): Promise<string[]> {
  const tags: string[] = [];
  let start: Item | undefined;
  do {
    const page = await context.client.send(
      new QueryCommand({
        TableName: context.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        FilterExpression: '#digest = :digest',
        ExpressionAttributeNames: names('digest'),
        ExpressionAttributeValues: {
          ':pk': to.s(ItemKey.repository(repository)),
          ':prefix': to.s(SortPrefix.tag),
          ':digest': to.s(digest),
        },
        ConsistentRead: true,
        ...(start && { ExclusiveStartKey: start }),
      }),
    );
    for (const item of page.Items ?? []) tags.push((item.sk?.S ?? '').slice(SortPrefix.tag.length));
    start = page.LastEvaluatedKey;
  } while (start);
  return tags;
}

/** Deletes a tag pushed at or before `at` (and, when given, still on `digest`). */
function deleteTag(context: TableContext, repository: string, tag: string, at: number, digest?: Digest) {
  return conditionally(() =>
    context.client.send(
      new DeleteItemCommand({
        TableName: context.table,
        Key: { pk: to.s(ItemKey.repository(repository)), sk: to.s(ItemKey.tag(tag)) },
        ConditionExpression: digest ? '#pushedAt <= :at AND #digest = :digest' : '#pushedAt <= :at',
        ExpressionAttributeNames: names('pushedAt', ...(digest ? ['digest'] : [])),
        ExpressionAttributeValues: { ':at': to.n(at), ...(digest && { ':digest': to.s(digest) }) },
      }),
    ),
  );
}

function historyPut({ kind, event }: ClassifiedEvent): WriteRequest {
  const item: Item = {
    pk: to.s(ItemKey.repository(event.repository)),
    sk: to.s(ItemKey.history(historyKey(event.timestamp, event.id))),
    at: to.n(event.timestamp.getTime()),
    kind: to.s(kind),
    eventId: to.s(event.id),
    ...(event.digest && { digest: to.s(event.digest) }),
    ...(event.tag && { tag: to.s(event.tag) }),
  };
  return { PutRequest: { Item: item } };
}
