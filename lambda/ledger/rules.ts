import { isDigest, isImage, isIndex, isSchema1, type Digest } from '../domain';
import { LedgerInputError } from './errors';
import {
  MAX_FACTS_BODY_BYTES,
  type LedgerEvent,
  type ManifestFacts,
  type NewRemoval,
  type LedgerPendingPlan,
  type PendingPlan,
} from './records';

/**
 * `lastPulledAt` is rewritten at most once per this interval per digest (by event time): a busy
 * registry then costs at most one pull write per manifest per hour.
 */
export const PULL_RECORD_INTERVAL_MS = 60 * 60 * 1000;
/** How long an archived removal stays restorable, by default. */
export const ARCHIVE_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/**
 * How long a pending plan (the removals a stopped worker left for its continuation) is kept: a
 * continuation is queued at once, and one that comes later than this plans afresh.
 */
export const PENDING_PLAN_RETENTION_MS = 24 * 60 * 60 * 1000;
/** How long the record of a manifest that a delete removed is kept (then it expires). */
export const GONE_MANIFEST_RETENTION_MS = 90 * 24 * 60 * 60 * 1000;
/**
 * The User-Agent prefix of regsweep's own registry requests (the same prefix as in
 * `lambda/events`): its HEADs and GETs are notified as pulls and are not use.
 */
export const REGSWEEP_USER_AGENT_PREFIX = 'regsweep/';

/**
 * When an archive made at `removedAt` expires: `retentionMs` later, rounded up to a whole second
 * (DynamoDB's TTL counts seconds), so that both stores agree to the millisecond.
 */
export function archiveExpiry(removedAt: Date, retentionMs: number): Date {
  return new Date(Math.ceil((removedAt.getTime() + retentionMs) / 1000) * 1000);
}

/** The body a store keeps with a manifest's facts: none above {@link MAX_FACTS_BODY_BYTES}. */
export function keptBody(fact: ManifestFacts): Uint8Array | undefined {
  return fact.body && fact.body.length <= MAX_FACTS_BODY_BYTES ? fact.body : undefined;
}

/** The ledger's clock; injected so that tests control time. */
export type LedgerClock = () => Date;

/** The wall clock. */
export const systemClock: LedgerClock = () => new Date();

/**
 * Whether a pull by this user agent counts as use: not regsweep's own (case-insensitive prefix)
 * and matched by none of `ignorePullsFrom`. A pull without a user agent counts: regsweep always
 * sends one.
 */
export function isRecordablePull(
  userAgent: string | undefined,
  ignorePullsFrom: readonly RegExp[] = [],
): boolean {
  if (userAgent === undefined) return true;
  if (userAgent.toLowerCase().startsWith(REGSWEEP_USER_AGENT_PREFIX)) return false;
  return !ignorePullsFrom.some((pattern) => {
    // A global or sticky regex keeps state between test() calls; start each test afresh.
    pattern.lastIndex = 0;
    return pattern.test(userAgent);
  });
}

/** True for the media types the ledger records: manifests and indexes (absent: assumed a manifest). */
export function isManifestMediaType(mediaType: string | undefined): boolean {
  return mediaType === undefined || isIndex(mediaType) || isImage(mediaType) || isSchema1(mediaType);
}

/** An event the ledger acts on, with its kind decided once for both stores. */
export type ClassifiedEvent =
  | { readonly kind: 'push'; readonly event: LedgerEvent & { readonly digest: Digest } }
  | { readonly kind: 'pull'; readonly event: LedgerEvent & { readonly digest: Digest } }
  | { readonly kind: 'delete'; readonly event: LedgerEvent };

/**
 * Splits `events` into those the ledger records, in timestamp order (one id once: a retry inside
 * the same batch counts as a duplicate), and the counts of the others.
 */
export function classifyEvents(
  events: readonly LedgerEvent[],
  ignorePullsFrom: readonly RegExp[] = [],
): { readonly accepted: ClassifiedEvent[]; readonly ignored: number; readonly duplicates: number } {
  const accepted: ClassifiedEvent[] = [];
  const seen = new Set<string>();
  let ignored = 0;
  let duplicates = 0;
  for (const event of events) {
    const timestamp = event.timestamp instanceof Date ? event.timestamp.getTime() : NaN;
    const known = event.action === 'push' || event.action === 'pull' || event.action === 'delete';
    if (
      !known ||
      !event.id ||
      !event.repository ||
      Number.isNaN(timestamp) ||
      !isManifestMediaType(event.mediaType)
    ) {
      ignored += 1;
      continue;
    }
    const digest = event.digest !== undefined && isDigest(event.digest) ? event.digest : undefined;
    if (event.action === 'delete') {
      if (digest === undefined && !event.tag) {
        ignored += 1;
        continue;
      }
    } else if (digest === undefined) {
      ignored += 1;
      continue;
    } else if (event.action === 'pull' && !isRecordablePull(event.userAgent, ignorePullsFrom)) {
      ignored += 1;
      continue;
    }
    // Pulls carry no dedup record (that would be a write per pull); the hourly condition makes a
    // retried pull harmless. Push and delete ids are deduplicated here and by the store.
    if (event.action !== 'pull') {
      if (seen.has(event.id)) {
        duplicates += 1;
        continue;
      }
      seen.add(event.id);
    }
    if (event.action === 'delete') accepted.push({ kind: 'delete', event: { ...event, digest } });
    else accepted.push({ kind: event.action, event: { ...event, digest: digest as Digest } });
  }
  accepted.sort((a, b) => a.event.timestamp.getTime() - b.event.timestamp.getTime());
  return { accepted, ignored, duplicates };
}

/**
 * The sort key of a history entry, shared by both stores so they order alike: the ISO time
 * (fixed width, so it sorts as text), then what makes the entry unique. Newest first is
 * descending order of this key.
 */
export function historyKey(at: Date, ...unique: readonly string[]): string {
  return [at.toISOString(), ...unique].join('#');
}

/** Refuses a removal that cannot be archived, before anything is written. */
export function checkRemoval(removal: NewRemoval, maxBodyBytes: number): void {
  if (!removal.runId) throw new LedgerInputError('a removal needs a runId');
  if (!removal.repository) throw new LedgerInputError('a removal needs a repository');
  if (!isDigest(removal.digest)) throw new LedgerInputError(`'${removal.digest}' is not a digest`);
  if (!(removal.body instanceof Uint8Array) || removal.body.byteLength === 0)
    throw new LedgerInputError(`the archive of ${removal.repository}@${removal.digest} has no body`);
  if (removal.body.byteLength > maxBodyBytes)
    throw new LedgerInputError(
      `the manifest ${removal.repository}@${removal.digest} (${removal.body.byteLength} bytes) is larger ` +
        `than this ledger can archive (${maxBodyBytes} bytes): it is not removed`,
    );
}

/**
 * The pending plan as a store keeps it (a copy of the body, with its expiry); refuses one that
 * does not name itself and its repository, or holds nothing, before anything is written.
 */
export function keptPendingPlan(plan: PendingPlan): LedgerPendingPlan {
  if (!plan.id) throw new LedgerInputError('a pending plan needs an id');
  if (!plan.repository) throw new LedgerInputError(`the pending plan '${plan.id}' needs a repository`);
  if (!(plan.body instanceof Uint8Array) || plan.body.byteLength === 0)
    throw new LedgerInputError(`the pending plan '${plan.id}' has no body`);
  return {
    ...plan,
    body: new Uint8Array(plan.body),
    expiresAt: archiveExpiry(plan.savedAt, PENDING_PLAN_RETENTION_MS),
  };
}

/** Refuses a reservation that is not a whole number of removals. */
export function checkReservation(count: number): void {
  if (!Number.isSafeInteger(count) || count < 0)
    throw new LedgerInputError(`a reservation is a whole number of removals, not ${count}`);
}

/** Refuses a budget that is not a whole number of removals. */
export function checkBudget(budget: number | undefined): void {
  if (budget !== undefined && (!Number.isSafeInteger(budget) || budget < 0))
    throw new LedgerInputError(`a run's budget is a whole number of removals, not ${budget}`);
}
