import {
  isDigest,
  isImage,
  isIndex,
  isRepositoryName,
  isSchema1,
  isTag,
  type Digest,
  type RegistryAction,
  type RegistryEvent,
} from '../domain';

export type { RegistryAction, RegistryEvent } from '../domain';

/** A manifest event as a payload states it, before its names are validated. */
export interface EventCandidate {
  readonly id: string;
  readonly action: RegistryAction;
  readonly repository: unknown;
  /** `undefined` or `""`: none. */
  readonly digest: unknown;
  /** `undefined` or `""`: none. */
  readonly tag: unknown;
  readonly mediaType?: string;
  readonly size?: number;
  readonly userAgent?: string;
  readonly timestamp: Date;
}

/**
 * A push that named a valid repository and tag, in payload order: what starts a cleanup. Its
 * digest is absent when the payload's was missing or malformed (the event is then not a ledger
 * event, but the repository is still worth a cleanup; the push just holds nothing).
 */
export interface TagPush {
  readonly id: string;
  readonly repository: string;
  readonly tag: string;
  readonly digest?: Digest;
  readonly userAgent?: string;
}

/**
 * Gathers validated events and counts the rest, for every format: the one place where a repository
 * name, tag or digest from a payload is checked before it can become a ledger key, or a queued
 * cleanup.
 */
export class RegistryEventCollector {
  public readonly events: RegistryEvent[] = [];
  /** The pushes with a valid repository and tag, digest or not (see {@link TagPush}). */
  public readonly tagPushes: TagPush[] = [];
  public ignored = 0;
  public invalid = 0;

  /** @param now the timestamp of events whose own is missing or invalid */
  public constructor(public readonly now: Date) {}

  /** Adds the event when its names are valid; counts it as invalid (or ignored) otherwise. */
  public offer(candidate: EventCandidate): void {
    const digest = candidate.digest === '' ? undefined : candidate.digest;
    const tag = candidate.tag === '' ? undefined : candidate.tag;
    if (candidate.action === 'push' && isRepositoryName(candidate.repository) && isTag(tag)) {
      this.tagPushes.push({
        id: candidate.id,
        repository: candidate.repository,
        tag,
        ...(isDigest(digest) && { digest }),
        ...(candidate.userAgent !== undefined && { userAgent: candidate.userAgent }),
      });
    }
    if (
      !isRepositoryName(candidate.repository) ||
      (digest !== undefined && !isDigest(digest)) ||
      (tag !== undefined && !isTag(tag)) ||
      // A push or a pull is of a manifest, which always has a digest.
      (digest === undefined && candidate.action !== 'delete')
    ) {
      this.invalid += 1;
      return;
    }
    // A delete naming neither is distribution's repository delete: no manifest event.
    if (digest === undefined && tag === undefined) {
      this.ignored += 1;
      return;
    }
    this.events.push({
      id: candidate.id,
      action: candidate.action,
      repository: candidate.repository,
      ...(digest !== undefined && { digest }),
      ...(tag !== undefined && { tag }),
      ...(candidate.mediaType !== undefined && { mediaType: candidate.mediaType }),
      ...(candidate.size !== undefined && { size: candidate.size }),
      ...(candidate.userAgent !== undefined && { userAgent: candidate.userAgent }),
      timestamp: candidate.timestamp,
    });
  }

  /** Counts events that are not manifest events. */
  public ignore(count = 1): void {
    this.ignored += count;
  }
}

/** True for the media types of manifests: indexes, images and schema1 (parameters already stripped). */
export function isManifestMediaType(mediaType: string): boolean {
  return isIndex(mediaType) || isImage(mediaType) || isSchema1(mediaType);
}

// RFC 3339 as distribution (Go's RFC3339Nano) and Harbor's CloudEvents write it. Date.parse alone
// also reads `1` or `Nov 28` as dates.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/i;

/** An RFC 3339 timestamp as a Date, else `fallback` (also for Go's zero time, year 1). */
export function rfc3339Time(value: unknown, fallback: Date): Date {
  return typeof value === 'string' && RFC3339.test(value)
    ? afterEpoch(Date.parse(value), fallback)
    : fallback;
}

/** Unix seconds (Harbor's `occur_at`) as a Date, else `fallback`. */
export function unixSecondsTime(value: unknown, fallback: Date): Date {
  return typeof value === 'number' && Number.isSafeInteger(value)
    ? afterEpoch(value * 1000, fallback)
    : fallback;
}

function afterEpoch(milliseconds: number, fallback: Date): Date {
  const time = new Date(milliseconds);
  return Number.isNaN(time.getTime()) || milliseconds <= 0 ? fallback : time;
}
