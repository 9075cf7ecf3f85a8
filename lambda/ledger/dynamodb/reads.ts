import { GetItemCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/client-dynamodb';

import { names, to, type Item } from './attributes';
import type { TableContext } from './context';

/** A query's FilterExpression with its names and values. */
export interface QueryFilter {
  readonly expression: string;
  readonly names: Record<string, string>;
  readonly values?: Item;
}

/** One item by key (a consistent read), or undefined. */
export async function getItem(context: TableContext, pk: string, sk: string): Promise<Item | undefined> {
  const answer = await context.client.send(
    new GetItemCommand({
      TableName: context.table,
      Key: { pk: to.s(pk), sk: to.s(sk) },
      ConsistentRead: true,
    }),
  );
  return answer.Item;
}

/**
 * Every item of partition `pk` whose sort key starts with `prefix` (filtered), page after page,
 * up to `limit` when given; only the `projection` attributes when given (DynamoDB still charges
 * the whole items, but does not send what is left out). Consistent reads: a write is seen by the
 * next read.
 */
export async function queryItems(
  context: TableContext,
  options: {
    pk: string;
    prefix: string;
    newestFirst?: boolean;
    filter?: QueryFilter;
    limit?: number;
    projection?: readonly string[];
  },
): Promise<Item[]> {
  const items: Item[] = [];
  const attributeNames = {
    ...options.filter?.names,
    ...(options.projection && names(...options.projection)),
  };
  let start: Item | undefined;
  do {
    const input: QueryCommandInput = {
      TableName: context.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: {
        ':pk': to.s(options.pk),
        ':prefix': to.s(options.prefix),
        ...options.filter?.values,
      },
      ConsistentRead: true,
      ScanIndexForward: !options.newestFirst,
      ...(options.filter && { FilterExpression: options.filter.expression }),
      ...(options.projection && {
        ProjectionExpression: options.projection.map((attribute) => `#${attribute}`).join(', '),
      }),
      ...(Object.keys(attributeNames).length > 0 && { ExpressionAttributeNames: attributeNames }),
      ...(start && { ExclusiveStartKey: start }),
    };
    const page = await context.client.send(new QueryCommand(input));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start && (options.limit === undefined || items.length < options.limit));
  return options.limit === undefined ? items : items.slice(0, options.limit);
}

/** Leaves out items that expired but that TTL has not deleted yet (it deletes within days, not at once). */
export function unexpired(context: TableContext): QueryFilter {
  return {
    expression: '#expiresAt > :now',
    names: names('expiresAt'),
    values: { ':now': to.n(Math.floor(context.now().getTime() / 1000)) },
  };
}
