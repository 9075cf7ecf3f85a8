import { REGSWEEP_USER_AGENT_PREFIX } from './distribution';
import { readNotification, type ReadNotification } from './envelope';
import { PushCollector, type ParsedNotification } from './pushes';

/**
 * The cleanups a notification body asks for: one entry per repository named by a manifest push
 * with a valid tag, with the event ids (for dedup) and the digests pushed (held until their tags
 * resolve). Read by {@link readNotification}, the same parse the ledger's events come from.
 *
 * Everything else is counted in `ignored`: blob events, pulls, mounts, deletes (regsweep's own
 * deletions are echoed back as delete events), pushes by digest, pushes made by regsweep (its
 * placeholder and restored manifests), events with an invalid repository name or tag, and those
 * beyond {@link MAX_EVENTS_PER_ENVELOPE}. A valid envelope with nothing to act on yields no
 * repositories (the caller answers 2xx, so the registry does not retry it forever).
 *
 * @throws WebhookPayloadError for malformed JSON, a body that is not an object, or an unknown shape.
 */
export function parseNotification(body: string, contentType?: string): ParsedNotification {
  return pushesOf(readNotification(body, contentType, new Date()));
}

/** The cleanups of a notification already read (see {@link parseNotification}). */
export function pushesOf({ format, collector }: ReadNotification): ParsedNotification {
  const pushes = new PushCollector();
  for (const push of collector.tagPushes) {
    if (!push.userAgent?.toLowerCase().startsWith(REGSWEEP_USER_AGENT_PREFIX)) pushes.add(push);
  }
  // Every event of the payload was counted once: as a ledger event, ignored or invalid.
  const seen = collector.events.length + collector.ignored + collector.invalid;
  return { repositories: pushes.repositories(), ignored: seen - pushes.accepted, format };
}
