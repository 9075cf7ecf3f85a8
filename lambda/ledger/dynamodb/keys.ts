import type { Digest } from '../../domain';

/**
 * The ledger table's shape, for the CDK construct and test helpers to create the same table:
 * string partition key `pk`, string sort key `sk`, TTL on `expiresAt` (epoch seconds), on-demand.
 */
export const LEDGER_TABLE_KEYS = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
} as const;

/**
 * The items of the table. `#` separates key parts: repository names, tags and digests never
 * contain it, and it sorts before every character they may contain, so a repository's items sort
 * like the SQLite store's rows.
 *
 * | item | pk | sk |
 * |---|---|---|
 * | manifest | `R#<repository>` | `M#<digest>` |
 * | tag | `R#<repository>` | `T#<tag>` |
 * | history entry | `R#<repository>` | `H#<time>#<unique>` |
 * | archive of a tag (pointer to the removal) | `R#<repository>` | `A#<tag>#<removedAt>#<runId>#<digest>` |
 * | event (dedup) | `E#<event id>` | `E` |
 * | run | `RUN#<runId>` | `RUN` |
 * | removal (archive) | `RUN#<runId>` | `X#<repository>#<digest>` |
 * | pending plan (one item per chunk of its body) | `PLAN#<id>` | `P#<index, 5 digits>` |
 */
export const ItemKey = {
  repository: (repository: string) => `R#${repository}`,
  manifest: (digest: Digest | string) => `M#${digest}`,
  tag: (tag: string) => `T#${tag}`,
  history: (key: string) => `H#${key}`,
  tagArchive: (tag: string, removedAt: Date, runId: string, digest: string) =>
    `A#${tag}#${removedAt.toISOString()}#${runId}#${digest}`,
  tagArchivePrefix: (tag: string) => `A#${tag}#`,
  event: (id: string) => `E#${id}`,
  eventSort: 'E',
  run: (runId: string) => `RUN#${runId}`,
  runSort: 'RUN',
  removal: (repository: string, digest: string) => `X#${repository}#${digest}`,
  pendingPlan: (id: string) => `PLAN#${id}`,
  // Zero-padded, so that the chunks sort in their order.
  pendingPlanChunk: (index: number) => `P#${String(index).padStart(5, '0')}`,
} as const;

/** Prefixes of the sort keys a query selects with `begins_with`. */
export const SortPrefix = {
  manifest: 'M#',
  tag: 'T#',
  history: 'H#',
  removal: 'X#',
  pendingPlanChunk: 'P#',
} as const;
