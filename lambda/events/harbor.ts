import { asRecord, field } from './pushes';

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

/** Harbor's full repository name (`project/repo`), else namespace and name joined. */
export function repositoryName(repository: Record<string, unknown> | undefined): unknown {
  const fullName = field(repository, 'repo_full_name');
  if (typeof fullName === 'string') return fullName;
  const namespace = field(repository, 'namespace');
  const name = field(repository, 'name');
  return typeof namespace === 'string' && typeof name === 'string' ? `${namespace}/${name}` : undefined;
}
