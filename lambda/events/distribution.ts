import { baseMediaType, isImage, isIndex, isSchema1 } from '../domain';
import { asRecord, eventIdOf, field, visitBounded, type PushCollector } from './pushes';

/** What distribution 2.x posts as the Content-Type of a notification envelope. */
export const DISTRIBUTION_EVENTS_V1 = 'application/vnd.docker.distribution.events.v1+json';
/** What distribution 3.x posts as the Content-Type of a notification envelope. */
export const DISTRIBUTION_EVENTS_V2 = 'application/vnd.docker.distribution.events.v2+json';

/**
 * The User-Agent prefix of regsweep's own registry requests. Pushes made by regsweep (the untag
 * placeholder manifests) come back as push events and must not start another run.
 */
export const REGSWEEP_USER_AGENT_PREFIX = 'regsweep/';

/** True for a distribution envelope: an object with an `events` member. */
export function isDistributionEnvelope(envelope: Record<string, unknown>): boolean {
  return field(envelope, 'events') !== undefined;
}

/**
 * Collects the manifest pushes with a tag from a distribution `{"events":[...]}` envelope.
 * Everything else is counted as ignored: blob pushes, pulls, mounts, deletes (our own deletions
 * are echoed back as delete events), manifest pushes by digest, and pushes made by regsweep.
 * `target.url`, `request.host` and `source.addr` are never read: only the configured registry is
 * ever called.
 *
 * @returns false when `events` is not an array (the envelope is malformed).
 */
export function collectDistributionEvents(
  envelope: Record<string, unknown>,
  collector: PushCollector,
): boolean {
  const events = field(envelope, 'events');
  if (!Array.isArray(events)) return false;
  visitBounded(events, collector, (event) => collectEvent(event, collector));
  return true;
}

function collectEvent(value: unknown, collector: PushCollector): void {
  const event = asRecord(value);
  const target = asRecord(field(event, 'target'));
  if (field(event, 'action') !== 'push' || !isManifestMediaType(field(target, 'mediaType'))) {
    collector.ignore();
    return;
  }
  const userAgent = field(asRecord(field(event, 'request')), 'useragent');
  if (typeof userAgent === 'string' && userAgent.toLowerCase().startsWith(REGSWEEP_USER_AGENT_PREFIX)) {
    collector.ignore();
    return;
  }
  const repository = field(target, 'repository');
  const tag = field(target, 'tag');
  // distribution keeps an event's id across retries; the fallback is only for hand-made payloads.
  const eventId = eventIdOf(field(event, 'id'), [
    'distribution',
    repository,
    field(target, 'digest'),
    tag,
    field(event, 'timestamp'),
  ]);
  collector.add(repository, tag, eventId, field(target, 'digest'));
}

function isManifestMediaType(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const mediaType = baseMediaType(value);
  return isIndex(mediaType) || isImage(mediaType) || isSchema1(mediaType);
}
