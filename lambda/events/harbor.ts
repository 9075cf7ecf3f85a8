import { MAX_EVENTS_PER_ENVELOPE } from './limits';
import { asRecord, eventIdOf, field, type PushCollector } from './pushes';

/** Harbor's default-format event type of an artifact push. */
export const HARBOR_PUSH_ARTIFACT = 'PUSH_ARTIFACT';
/** Harbor's default-format event type of an artifact pull (a manifest GET). */
export const HARBOR_PULL_ARTIFACT = 'PULL_ARTIFACT';
/** Harbor's default-format event type of an artifact deletion. */
export const HARBOR_DELETE_ARTIFACT = 'DELETE_ARTIFACT';
/** Harbor's CloudEvents type of an artifact push. */
export const HARBOR_CLOUDEVENTS_PUSHED = 'harbor.artifact.pushed';
/** Harbor's CloudEvents type of an artifact pull. */
export const HARBOR_CLOUDEVENTS_PULLED = 'harbor.artifact.pulled';
/** Harbor's CloudEvents type of an artifact deletion. */
export const HARBOR_CLOUDEVENTS_DELETED = 'harbor.artifact.deleted';
/** The Content-Type Harbor posts CloudEvents with (structured mode). */
export const CLOUDEVENTS_JSON = 'application/cloudevents+json';

/** True for Harbor's default format: `{"type": "...", "event_data": {...}}`. */
export function isHarborDefault(envelope: Record<string, unknown>): boolean {
  return typeof field(envelope, 'type') === 'string' && asRecord(field(envelope, 'event_data')) !== undefined;
}

/** True for a CloudEvent sent by Harbor: `specversion` set and a `harbor.*` type. */
export function isHarborCloudEvent(envelope: Record<string, unknown>): boolean {
  const type = field(envelope, 'type');
  return (
    typeof field(envelope, 'specversion') === 'string' &&
    typeof type === 'string' &&
    type.startsWith('harbor.')
  );
}

/**
 * Collects the tagged artifacts of a Harbor default-format `PUSH_ARTIFACT` notification. This
 * format carries no event id, so each resource's id is derived from type, repository, digest, tag
 * and `occur_at`: a retried post yields the same ids.
 */
export function collectHarborDefault(envelope: Record<string, unknown>, collector: PushCollector): void {
  const type = field(envelope, 'type');
  const occurAt = field(envelope, 'occur_at');
  collectEventData(type === HARBOR_PUSH_ARTIFACT, field(envelope, 'event_data'), collector, (resource) =>
    eventIdOf(undefined, ['harbor', type, resource.repository, resource.digest, resource.tag, occurAt]),
  );
}

/**
 * Collects the tagged artifacts of a Harbor CloudEvent of type `harbor.artifact.pushed`. Harbor
 * puts its `event_data` in `data`; a `data` wrapping the whole default payload is accepted too.
 */
export function collectHarborCloudEvent(envelope: Record<string, unknown>, collector: PushCollector): void {
  const type = field(envelope, 'type');
  const data = asRecord(field(envelope, 'data'));
  const eventData = asRecord(field(data, 'event_data')) ?? data;
  const time = field(envelope, 'time');
  collectEventData(type === HARBOR_CLOUDEVENTS_PUSHED, eventData, collector, (resource) =>
    eventIdOf(field(envelope, 'id'), [
      'harbor',
      type,
      resource.repository,
      resource.digest,
      resource.tag,
      time,
    ]),
  );
}

interface HarborResource {
  repository: unknown;
  digest: unknown;
  tag: unknown;
}

function collectEventData(
  isPush: boolean,
  value: unknown,
  collector: PushCollector,
  eventIdFor: (resource: HarborResource) => string,
): void {
  const eventData = asRecord(value);
  const resources = field(eventData, 'resources');
  const count = Array.isArray(resources) ? resources.length : 0;
  // One notification with no resources still counts as one ignored event.
  if (!isPush || !Array.isArray(resources) || count === 0) {
    collector.ignore(Math.max(1, count));
    return;
  }
  const repository = repositoryName(asRecord(field(eventData, 'repository')));
  const readable = Math.min(count, MAX_EVENTS_PER_ENVELOPE);
  collector.ignore(count - readable);
  for (let index = 0; index < readable; index += 1) {
    // `resource_url` names a host taken from the payload: never used.
    const resource = asRecord(resources[index]);
    const pushed: HarborResource = {
      repository,
      digest: field(resource, 'digest'),
      tag: field(resource, 'tag'),
    };
    // A push without a tag reports the digest as its tag (`sha256:...`), which isTag refuses.
    collector.add(pushed.repository, pushed.tag, eventIdFor(pushed), pushed.digest);
  }
}

/** Harbor's full repository name (`project/repo`), else namespace and name joined. */
export function repositoryName(repository: Record<string, unknown> | undefined): unknown {
  const fullName = field(repository, 'repo_full_name');
  if (typeof fullName === 'string') return fullName;
  const namespace = field(repository, 'namespace');
  const name = field(repository, 'name');
  return typeof namespace === 'string' && typeof name === 'string' ? `${namespace}/${name}` : undefined;
}
