import type { Digest } from '../../domain';
import type {
  HistoryEntry,
  HistoryKind,
  LedgerManifest,
  LedgerRemoval,
  LedgerRun,
  LedgerTag,
  RunTrigger,
} from '../records';
import { from, type Item } from './attributes';

/** The repository a `R#<repository>` or `X#<repository>#<digest>` key names. */
function afterPrefix(key: string, prefix: string): string {
  return key.slice(prefix.length);
}

/** A copy of a stored body (the SDK's buffer may be shared), or undefined. */
function bodyOf(stored: Uint8Array | undefined): Uint8Array | undefined {
  return stored && stored.length > 0 ? new Uint8Array(stored) : undefined;
}

/** A manifest record from its item (`R#<repository>`, `M#<digest>`). */
export function manifestFromItem(item: Item): LedgerManifest {
  const optional = {
    mediaType: from.s(item, 'mediaType'),
    size: from.n(item, 'size'),
    created: from.date(item, 'created'),
    children: from.strings(item, 'children') as Digest[] | undefined,
    subject: from.s(item, 'subject') as Digest | undefined,
    configDigest: from.s(item, 'configDigest') as Digest | undefined,
    blobSizes: from.numbers(item, 'blobSizes'),
    body: bodyOf(from.b(item, 'body')),
    factsRecordedAt: from.date(item, 'factsRecordedAt'),
    firstPushedAt: from.date(item, 'firstPushedAt'),
    lastPushedAt: from.date(item, 'lastPushedAt'),
    lastPulledAt: from.date(item, 'lastPulledAt'),
    goneAt: from.date(item, 'goneAt'),
  };
  return {
    repository: afterPrefix(from.s(item, 'pk') ?? '', 'R#'),
    digest: afterPrefix(from.s(item, 'sk') ?? '', 'M#') as Digest,
    ...definedOnly(optional),
  };
}

/** A tag record from its item (`R#<repository>`, `T#<tag>`). */
export function tagFromItem(item: Item): LedgerTag {
  return {
    repository: afterPrefix(from.s(item, 'pk') ?? '', 'R#'),
    tag: afterPrefix(from.s(item, 'sk') ?? '', 'T#'),
    digest: from.s(item, 'digest') as Digest,
    pushedAt: from.date(item, 'pushedAt') as Date,
  };
}

/** A history entry from its item (`R#<repository>`, `H#...`). */
export function historyFromItem(item: Item): HistoryEntry {
  return {
    at: from.date(item, 'at') as Date,
    kind: from.s(item, 'kind') as HistoryKind,
    repository: afterPrefix(from.s(item, 'pk') ?? '', 'R#'),
    ...definedOnly({
      digest: from.s(item, 'digest') as Digest | undefined,
      tag: from.s(item, 'tag'),
      eventId: from.s(item, 'eventId'),
      runId: from.s(item, 'runId'),
      reason: from.s(item, 'reason'),
    }),
  };
}

/** A run record from its item (`RUN#<runId>`, `RUN`). */
export function runFromItem(item: Item): LedgerRun {
  return {
    runId: afterPrefix(from.s(item, 'pk') ?? '', 'RUN#'),
    trigger: from.s(item, 'trigger') as RunTrigger,
    startedAt: from.date(item, 'startedAt') as Date,
    ...definedOnly({ budget: from.n(item, 'budget') }),
    used: from.n(item, 'used') ?? 0,
  };
}

/** An archived removal from its item (`RUN#<runId>`, `X#<repository>#<digest>`). */
export function removalFromItem(item: Item): LedgerRemoval {
  return {
    runId: afterPrefix(from.s(item, 'pk') ?? '', 'RUN#'),
    repository: from.s(item, 'repository') as string,
    digest: from.s(item, 'digest') as Digest,
    tags: from.strings(item, 'tags') ?? [],
    mediaType: from.s(item, 'mediaType') as string,
    body: new Uint8Array(from.b(item, 'body') ?? new Uint8Array()),
    removedAt: from.date(item, 'removedAt') as Date,
    reason: from.s(item, 'reason') as string,
    expiresAt: new Date((from.n(item, 'expiresAt') ?? 0) * 1000),
  };
}

/** `value` without its undefined fields (records leave unknown fields absent). */
function definedOnly<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
