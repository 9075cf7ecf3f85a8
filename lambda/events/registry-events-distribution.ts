import { baseMediaType } from '../domain';
import { asRecord, eventIdOf, field, visitBounded } from './pushes';
import {
  isManifestMediaType,
  rfc3339Time,
  type RegistryAction,
  type RegistryEventCollector,
} from './registry-event';

const RECORDED_ACTIONS: ReadonlySet<unknown> = new Set<RegistryAction>(['push', 'pull', 'delete']);

/**
 * Reads the manifest events of a distribution `{"events":[...]}` envelope (v1 from 2.x, v2 from
 * 3.x): pushes tagged or by digest, pulls (every manifest GET and HEAD, by any user agent) and
 * deletes. Blob events (layer and config media types) and mounts are ignored.
 *
 * A delete carries no media type, and distribution writes blob and manifest deletes alike (digest
 * and repository only), so every delete with a digest is read as a manifest delete: a blob's
 * digest names no manifest the ledger knows. distribution 3 writes `"digest": ""`,
 * `"mediaType": ""` and `"size": 0` on a tag delete: all three are read as absent.
 *
 * @returns false when `events` is not an array (the envelope is malformed).
 */
export function readDistributionEvents(
  envelope: Record<string, unknown>,
  collector: RegistryEventCollector,
): boolean {
  const events = field(envelope, 'events');
  if (!Array.isArray(events)) return false;
  visitBounded(events, collector, (event) => readEvent(event, collector));
  return true;
}

function readEvent(value: unknown, collector: RegistryEventCollector): void {
  const event = asRecord(value);
  const action = field(event, 'action');
  if (!RECORDED_ACTIONS.has(action)) {
    collector.ignore();
    return;
  }
  const target = asRecord(field(event, 'target'));
  const rawMediaType = field(target, 'mediaType');
  const mediaType = typeof rawMediaType === 'string' ? baseMediaType(rawMediaType) : undefined;
  // A push or pull without a manifest media type is a blob's; only deletes come without one.
  if (mediaType === undefined ? action !== 'delete' : !isManifestMediaType(mediaType)) {
    collector.ignore();
    return;
  }
  const repository = field(target, 'repository');
  const digest = field(target, 'digest');
  const tag = field(target, 'tag');
  const timestamp = field(event, 'timestamp');
  const size = field(target, 'size');
  const userAgent = field(asRecord(field(event, 'request')), 'useragent');
  collector.offer({
    // distribution keeps an event's id across retries; the fallback is only for hand-made
    // payloads, the same fields as parseNotification's for a push, plus the action otherwise.
    id: eventIdOf(field(event, 'id'), [
      'distribution',
      repository,
      digest,
      tag,
      timestamp,
      ...(action === 'push' ? [] : [action]),
    ]),
    action: action as RegistryAction,
    repository,
    digest,
    tag,
    ...(mediaType !== undefined && { mediaType }),
    ...(typeof size === 'number' && Number.isSafeInteger(size) && size > 0 && { size }),
    ...(typeof userAgent === 'string' && userAgent !== '' && { userAgent }),
    timestamp: rfc3339Time(timestamp, collector.now),
  });
}
