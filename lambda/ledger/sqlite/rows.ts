import type { Digest } from '../../domain';
import type {
  HistoryEntry,
  HistoryKind,
  LedgerManifest,
  LedgerPendingPlan,
  LedgerRemoval,
  LedgerRun,
  LedgerTag,
  RunTrigger,
} from '../records';
import { historyKey } from '../rules';

/** A `manifests` row. */
export interface ManifestRow {
  repository: string;
  digest: string;
  media_type: string | null;
  size: number | null;
  created: number | null;
  children: string | null;
  subject: string | null;
  config_digest: string | null;
  blob_sizes: string | null;
  body: Buffer | null;
  facts_recorded_at: number | null;
  first_pushed_at: number | null;
  last_pushed_at: number | null;
  last_pulled_at: number | null;
  gone_at: number | null;
}

/** A `tags` row. */
export interface TagRow {
  repository: string;
  tag: string;
  digest: string;
  pushed_at: number;
}

/** A `history` row. */
export interface HistoryRow {
  repository: string;
  at: number;
  kind: string;
  digest: string | null;
  tag: string | null;
  event_id: string | null;
  run_id: string | null;
  reason: string | null;
}

/** A `runs` row. */
export interface RunRow {
  run_id: string;
  trigger: string;
  started_at: number;
  budget: number | null;
  used: number;
}

/** A `removals` row. */
export interface RemovalRow {
  run_id: string;
  repository: string;
  digest: string;
  tags: string;
  media_type: string;
  body: Buffer;
  removed_at: number;
  reason: string;
  expires_at: number;
}

/** A `pending_plans` row. */
export interface PendingPlanRow {
  id: string;
  repository: string;
  body: Buffer;
  saved_at: number;
  expires_at: number;
}

const date = (ms: number | null): Date | undefined => (ms === null ? undefined : new Date(ms));

/** A manifest record from its row; absent columns become absent fields. */
export function manifestFromRow(row: ManifestRow): LedgerManifest {
  return {
    repository: row.repository,
    digest: row.digest as Digest,
    ...(row.media_type !== null && { mediaType: row.media_type }),
    ...(row.size !== null && { size: row.size }),
    ...(row.created !== null && { created: new Date(row.created) }),
    ...(row.children !== null && { children: JSON.parse(row.children) as Digest[] }),
    ...(row.subject !== null && { subject: row.subject as Digest }),
    ...(row.config_digest !== null && { configDigest: row.config_digest as Digest }),
    ...(row.blob_sizes !== null && { blobSizes: JSON.parse(row.blob_sizes) as Record<string, number> }),
    ...(row.body !== null && { body: new Uint8Array(row.body) }),
    ...(row.facts_recorded_at !== null && { factsRecordedAt: date(row.facts_recorded_at) }),
    ...(row.first_pushed_at !== null && { firstPushedAt: date(row.first_pushed_at) }),
    ...(row.last_pushed_at !== null && { lastPushedAt: date(row.last_pushed_at) }),
    ...(row.last_pulled_at !== null && { lastPulledAt: date(row.last_pulled_at) }),
    ...(row.gone_at !== null && { goneAt: date(row.gone_at) }),
  };
}

/** A tag record from its row. */
export function tagFromRow(row: TagRow): LedgerTag {
  return {
    repository: row.repository,
    tag: row.tag,
    digest: row.digest as Digest,
    pushedAt: new Date(row.pushed_at),
  };
}

/** A history entry from its row. */
export function historyFromRow(row: HistoryRow): HistoryEntry {
  return {
    at: new Date(row.at),
    kind: row.kind as HistoryKind,
    repository: row.repository,
    ...(row.digest !== null && { digest: row.digest as Digest }),
    ...(row.tag !== null && { tag: row.tag }),
    ...(row.event_id !== null && { eventId: row.event_id }),
    ...(row.run_id !== null && { runId: row.run_id }),
    ...(row.reason !== null && { reason: row.reason }),
  };
}

/** A run record from its row. */
export function runFromRow(row: RunRow): LedgerRun {
  return {
    runId: row.run_id,
    trigger: row.trigger as RunTrigger,
    startedAt: new Date(row.started_at),
    ...(row.budget !== null && { budget: row.budget }),
    used: row.used,
  };
}

/** An archived removal from its row; the body is a copy of the stored bytes. */
export function removalFromRow(row: RemovalRow): LedgerRemoval {
  return {
    runId: row.run_id,
    repository: row.repository,
    digest: row.digest as Digest,
    tags: JSON.parse(row.tags) as string[],
    mediaType: row.media_type,
    body: new Uint8Array(row.body),
    removedAt: new Date(row.removed_at),
    reason: row.reason,
    expiresAt: new Date(row.expires_at),
  };
}

/** A pending plan from its row; the body is a copy of the stored bytes. */
export function pendingPlanFromRow(row: PendingPlanRow): LedgerPendingPlan {
  return {
    id: row.id,
    repository: row.repository,
    body: new Uint8Array(row.body),
    savedAt: new Date(row.saved_at),
    expiresAt: new Date(row.expires_at),
  };
}

/** The parameters of the `archive` statement for an archived removal. */
export function removalParameters(removal: LedgerRemoval): Record<string, string | number | Buffer> {
  return {
    runId: removal.runId,
    repository: removal.repository,
    digest: removal.digest,
    tags: JSON.stringify(removal.tags),
    mediaType: removal.mediaType,
    body: Buffer.from(removal.body),
    removedAt: removal.removedAt.getTime(),
    reason: removal.reason,
    expiresAt: removal.expiresAt.getTime(),
  };
}

/**
 * The parameters of the `insertHistory` statement for an archived removal: one entry per tag it
 * takes down, one without a tag for an untagged manifest.
 */
export function archiveHistoryParameters(
  removal: LedgerRemoval,
): Array<Record<string, string | number | null>> {
  return (removal.tags.length > 0 ? removal.tags : [null]).map((tag) => ({
    repository: removal.repository,
    key: historyKey(removal.removedAt, 'archive', removal.runId, removal.digest, tag ?? ''),
    at: removal.removedAt.getTime(),
    kind: 'archive',
    digest: removal.digest,
    tag,
    eventId: null,
    runId: removal.runId,
    reason: removal.reason,
  }));
}

/** The parameters of the `savePendingPlan` statement. */
export function pendingPlanParameters(plan: LedgerPendingPlan): Record<string, string | number | Buffer> {
  return {
    id: plan.id,
    repository: plan.repository,
    body: Buffer.from(plan.body),
    savedAt: plan.savedAt.getTime(),
    expiresAt: plan.expiresAt.getTime(),
  };
}
