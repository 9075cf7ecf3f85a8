import { readNotification } from './envelope';
import type { NotificationFormat } from './pushes';
import type { RegistryEvent } from './registry-event';

/** The manifest events of one notification, and how many events were not turned into one. */
export interface RegistryEvents {
  readonly format: NotificationFormat;
  /** In the order the payload lists them. */
  readonly events: readonly RegistryEvent[];
  /**
   * Events that are not manifest events: blob pushes and pulls, mounts, unknown actions or Harbor
   * types, repository deletes, and those beyond {@link MAX_EVENTS_PER_ENVELOPE}.
   */
  readonly ignored: number;
  /** Manifest events dropped because their repository name, tag or digest is malformed or missing. */
  readonly invalid: number;
}

export interface RegistryEventsOptions {
  /** The request's Content-Type; only `application/cloudevents+json` changes the detection. */
  readonly contentType?: string;
  /** The timestamp of an event whose own is missing or not a valid RFC 3339 time: when the post arrived. */
  readonly now: Date;
}

/**
 * The manifest events of a notification body (a distribution v1 or v2 envelope, Harbor's default
 * format or a Harbor CloudEvent), for the ledger to record: pushes (tagged or by digest), pulls
 * and deletes. Read by {@link readNotification}, the same parse the queued cleanups come from.
 *
 * Pulls are not filtered by user agent here (the ledger does that with its configured patterns);
 * repository names, tags and digests are validated, and an event with a malformed one is counted
 * in `invalid`, never returned. `target.url`, `request.host` and `source.addr` are never read. At
 * most {@link MAX_EVENTS_PER_ENVELOPE} events (Harbor: resources) are read; the rest are ignored.
 *
 * @throws WebhookPayloadError for malformed JSON, a body that is not an object, or an unknown shape.
 */
export function registryEventsOf(body: string, options: RegistryEventsOptions): RegistryEvents {
  const { format, collector } = readNotification(body, options.contentType, options.now);
  return { format, events: collector.events, ignored: collector.ignored, invalid: collector.invalid };
}
