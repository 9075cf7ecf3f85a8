import {
  HARBOR_CLOUDEVENTS_DELETED,
  HARBOR_CLOUDEVENTS_PULLED,
  HARBOR_CLOUDEVENTS_PUSHED,
  HARBOR_DELETE_ARTIFACT,
  HARBOR_PULL_ARTIFACT,
  HARBOR_PUSH_ARTIFACT,
  repositoryName,
} from './harbor';
import { MAX_EVENTS_PER_ENVELOPE } from './limits';
import { asRecord, eventIdOf, field } from './pushes';
import {
  rfc3339Time,
  unixSecondsTime,
  type RegistryAction,
  type RegistryEventCollector,
} from './registry-event';

// Maps, not object literals: a payload's `type` of `constructor` must find nothing.
const DEFAULT_ACTIONS = new Map<unknown, RegistryAction>([
  [HARBOR_PUSH_ARTIFACT, 'push'],
  [HARBOR_PULL_ARTIFACT, 'pull'],
  [HARBOR_DELETE_ARTIFACT, 'delete'],
]);
const CLOUDEVENTS_ACTIONS = new Map<unknown, RegistryAction>([
  [HARBOR_CLOUDEVENTS_PUSHED, 'push'],
  [HARBOR_CLOUDEVENTS_PULLED, 'pull'],
  [HARBOR_CLOUDEVENTS_DELETED, 'delete'],
]);

/**
 * Reads a Harbor default-format notification: `PUSH_ARTIFACT`, `PULL_ARTIFACT` and
 * `DELETE_ARTIFACT`, one event per resource; other types are ignored. The format has no event id
 * (it is derived from type, repository, digest, tag and `occur_at`, as parseNotification derives
 * it), no media type, no size and no user agent: regsweep's own reads through Harbor cannot be
 * told from a client's, and the ledger counts them as use.
 */
export function readHarborDefault(
  envelope: Record<string, unknown>,
  collector: RegistryEventCollector,
): void {
  const type = field(envelope, 'type');
  const occurAt = field(envelope, 'occur_at');
  readEventData(
    DEFAULT_ACTIONS.get(type),
    field(envelope, 'event_data'),
    unixSecondsTime(occurAt, collector.now),
    collector,
    (resource) =>
      eventIdOf(undefined, ['harbor', type, resource.repository, resource.digest, resource.tag, occurAt]),
  );
}

/**
 * Reads a Harbor CloudEvent: `harbor.artifact.pushed`, `.pulled` and `.deleted`, one event per
 * resource; other types are ignored. The first resource takes the CloudEvent's id; Harbor sends
 * one resource per event, so later ones (hand-made payloads) get ids derived from their fields, so
 * that the ledger does not take them for retries of the first.
 */
export function readHarborCloudEvent(
  envelope: Record<string, unknown>,
  collector: RegistryEventCollector,
): void {
  const type = field(envelope, 'type');
  const id = field(envelope, 'id');
  const time = field(envelope, 'time');
  const data = asRecord(field(envelope, 'data'));
  readEventData(
    CLOUDEVENTS_ACTIONS.get(type),
    asRecord(field(data, 'event_data')) ?? data,
    rfc3339Time(time, collector.now),
    collector,
    (resource, index) => {
      const identifying = ['harbor', type, resource.repository, resource.digest, resource.tag, time];
      return index === 0 ? eventIdOf(id, identifying) : eventIdOf(undefined, [...identifying, id]);
    },
  );
}

interface HarborResource {
  readonly repository: unknown;
  readonly digest: unknown;
  readonly tag: unknown;
}

function readEventData(
  action: RegistryAction | undefined,
  value: unknown,
  timestamp: Date,
  collector: RegistryEventCollector,
  eventIdFor: (resource: HarborResource, index: number) => string,
): void {
  const eventData = asRecord(value);
  const resources = field(eventData, 'resources');
  const count = Array.isArray(resources) ? resources.length : 0;
  // One notification with no resources still counts as one ignored event.
  if (action === undefined || !Array.isArray(resources) || count === 0) {
    collector.ignore(Math.max(1, count));
    return;
  }
  const repository = repositoryName(asRecord(field(eventData, 'repository')));
  const readable = Math.min(count, MAX_EVENTS_PER_ENVELOPE);
  collector.ignore(count - readable);
  for (let index = 0; index < readable; index += 1) {
    // `resource_url` names a host taken from the payload: never read.
    const resource = asRecord(resources[index]);
    const stated: HarborResource = {
      repository,
      digest: field(resource, 'digest'),
      tag: field(resource, 'tag'),
    };
    collector.offer({
      id: eventIdFor(stated, index),
      action,
      repository,
      digest: stated.digest,
      // Harbor names an artifact pushed or pulled by digest with its digest in place of a tag.
      tag: stated.tag === stated.digest ? undefined : stated.tag,
      timestamp,
    });
  }
}
