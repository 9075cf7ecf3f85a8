import type { Digest, RegistryAction, RegistryEvent } from '../domain';

/** What a notification said happened; the ledger records manifest events only. */
export type LedgerAction = RegistryAction;

/**
 * One notification event, already parsed from the registry's envelope and validated
 * (`lambda/events` does that). An event whose `mediaType` is not a manifest media type is ignored.
 */
export type LedgerEvent = RegistryEvent;

/** What `recordEvents` does with the pulls it is given. */
export interface RecordEventsOptions {
  /**
   * User-agent regexes (the policy's `ledger.ignorePullsFrom`) whose pulls are not use: scanners.
   * regsweep's own agent (`regsweep/…`) is always ignored.
   */
  readonly ignorePullsFrom?: readonly RegExp[];
}

/** How many of the events given to `recordEvents` went where. Every event is counted once. */
export interface RecordEventsResult {
  /** Written: a push, a delete, or a pull that updated `lastPulledAt`. */
  readonly recorded: number;
  /** Push or delete events whose id was recorded before (a retried notification). */
  readonly duplicates: number;
  /** Pulls within {@link PULL_RECORD_INTERVAL_MS} of the recorded `lastPulledAt`: not written. */
  readonly throttled: number;
  /**
   * Not ledger events: pulls by regsweep or an ignored agent, blob events, events without a
   * well-formed digest (a push or pull), or without a repository.
   */
  readonly ignored: number;
}

/** What regsweep read about a manifest while planning. Digests are immutable: facts never go stale. */
export interface ManifestFacts {
  readonly digest: Digest;
  readonly mediaType: string;
  /** Bytes of the manifest body. */
  readonly size: number;
  /** The image's build time (config `created` or the OCI annotation); absent when unknown. */
  readonly created?: Date;
  /** For an index: the manifests it lists, in order. */
  readonly children?: readonly Digest[];
  /** For a referrer (signature, SBOM, attestation): the manifest it refers to. */
  readonly subject?: Digest;
  readonly configDigest?: Digest;
  /** Bytes of each blob the manifest references (config and layers), by digest. */
  readonly blobSizes?: Readonly<Record<string, number>>;
  /**
   * The manifest body, the exact bytes read (its digest is `digest`), when at most
   * {@link MAX_FACTS_BODY_BYTES}: a sweep archives a removal from it instead of reading the
   * manifest again.
   */
  readonly body?: Uint8Array;
}

/**
 * The largest manifest body the facts keep (bigger ones are read again when archived): well under
 * DynamoDB's 400 KB item limit, and far above a usual image manifest or index (1–10 KB).
 */
export const MAX_FACTS_BODY_BYTES = 64 * 1024;

/** The ledger's record of one manifest in one repository. */
export interface LedgerManifest {
  readonly repository: string;
  readonly digest: Digest;
  /** From the facts, else from the push or pull event. */
  readonly mediaType?: string;
  readonly size?: number;
  readonly created?: Date;
  readonly children?: readonly Digest[];
  readonly subject?: Digest;
  readonly configDigest?: Digest;
  readonly blobSizes?: Readonly<Record<string, number>>;
  /** The manifest body, when the facts kept it (see {@link ManifestFacts.body}). */
  readonly body?: Uint8Array;
  /** When `putFacts` wrote the facts above; absent when only events named the manifest. */
  readonly factsRecordedAt?: Date;
  readonly firstPushedAt?: Date;
  readonly lastPushedAt?: Date;
  /** The newest recorded pull by a client that counts as use (hourly resolution). */
  readonly lastPulledAt?: Date;
  /**
   * When a delete event removed it (and no later push brought it back). Such a record expires
   * {@link GONE_MANIFEST_RETENTION_MS} later; `listManifests` leaves it out.
   */
  readonly goneAt?: Date;
}

/** The ledger's record of a tag: what it was last pushed as. */
export interface LedgerTag {
  readonly repository: string;
  readonly tag: string;
  readonly digest: Digest;
  readonly pushedAt: Date;
}

/** What one history entry says happened. `archive`: a sweep archived the manifest to remove it. */
export type HistoryKind = 'push' | 'pull' | 'delete' | 'archive';

/** One line of `regsweep history`. */
export interface HistoryEntry {
  readonly at: Date;
  readonly kind: HistoryKind;
  readonly repository: string;
  readonly digest?: Digest;
  readonly tag?: string;
  /** The notification's id (push, pull, delete). */
  readonly eventId?: string;
  /** The run that archived the manifest (archive). */
  readonly runId?: string;
  /** Why the run removes it (archive). */
  readonly reason?: string;
}

/** Which history `history()` returns: a repository, one tag of it, or one digest of it. */
export interface HistorySubject {
  readonly repository: string;
  /** Only entries about this tag. */
  readonly tag?: string;
  /** Only entries about this digest. */
  readonly digest?: Digest;
}

/** What started a run. */
export type RunTrigger = 'push' | 'schedule' | 'cli';

/** A new run: its budget is the policy's `limits.maxDeletesPerRun`, absent when unlimited. */
export interface NewRun {
  /** A ULID. */
  readonly runId: string;
  readonly trigger: RunTrigger;
  readonly startedAt: Date;
  /** How many removals the whole run may make; absent: no limit. */
  readonly budget?: number;
}

/** A run as the ledger holds it. */
export interface LedgerRun extends NewRun {
  /** Removals reserved so far by `reserveBudget`. */
  readonly used: number;
}

/** A removal to archive, just before its DELETE is sent. */
export interface NewRemoval {
  readonly runId: string;
  readonly repository: string;
  readonly digest: Digest;
  /** The tags the removal takes down (empty for an untagged manifest). */
  readonly tags: readonly string[];
  readonly mediaType: string;
  /** The manifest body, the exact bytes the registry served (its digest is `digest`). */
  readonly body: Uint8Array;
  readonly removedAt: Date;
  /** The plan's reason, e.g. `beyond keep=3 in stream 'main'`. */
  readonly reason: string;
}

/** An archived removal: what `restore` puts back. */
export interface LedgerRemoval extends NewRemoval {
  /** When the archive is dropped: {@link ARCHIVE_RETENTION_MS} after `removedAt` by default. */
  readonly expiresAt: Date;
}

/**
 * The removals a worker stopped by its Lambda deadline left for its continuation: the rest of its
 * plan, so the continuation carries it out (re-verified like any plan) instead of planning again.
 */
export interface PendingPlan {
  /** Its id (a ULID), which the continuation message carries. */
  readonly id: string;
  readonly repository: string;
  /** The remaining plan as the engine encoded it: opaque to the store, kept exactly, any size. */
  readonly body: Uint8Array;
  readonly savedAt: Date;
}

/** A pending plan as the ledger keeps it. */
export interface LedgerPendingPlan extends PendingPlan {
  /** When it is dropped: {@link PENDING_PLAN_RETENTION_MS} after `savedAt`, to the second. */
  readonly expiresAt: Date;
}
