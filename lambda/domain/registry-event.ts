import type { Digest } from './digest';

/** What a notification said happened to a manifest; the other actions (mount) are not recorded. */
export type RegistryAction = 'push' | 'pull' | 'delete';

/**
 * One manifest event of a registry notification, validated (by `lambda/events`): what the ledger
 * records. Blob events are not manifest events and never become one.
 */
export interface RegistryEvent {
  /** The event's id (distribution keeps it across retries, so it deduplicates them), else one derived from its fields. */
  readonly id: string;
  readonly action: RegistryAction;
  /** A valid repository name (distribution's grammar). */
  readonly repository: string;
  /** Always set for push and pull; a tag delete names none (distribution 3 sends `""`). */
  readonly digest?: Digest;
  /** A valid tag; absent for a push or pull by digest and for a digest delete. */
  readonly tag?: string;
  /** The manifest's media type, without parameters; absent for deletes and for Harbor. */
  readonly mediaType?: string;
  /** Bytes of the manifest; absent when the payload gives none. */
  readonly size?: number;
  /** `request.useragent`, kept as sent: the ledger decides which pulls are use. Absent for Harbor. */
  readonly userAgent?: string;
  /** When the registry saw the request; the time the post arrived when the payload gives none. */
  readonly timestamp: Date;
}
