import { baseMediaType } from '../domain';
import { isDistributionEnvelope } from './distribution';
import { WebhookPayloadError } from './errors';
import { CLOUDEVENTS_JSON, isHarborCloudEvent, isHarborDefault } from './harbor';
import { asRecord, field, type NotificationFormat } from './pushes';
import { RegistryEventCollector } from './registry-event';
import { readDistributionEvents } from './registry-events-distribution';
import { readHarborCloudEvent, readHarborDefault } from './registry-events-harbor';

/** A notification body read once: its format and every event, validated and counted. */
export interface ReadNotification {
  readonly format: NotificationFormat;
  readonly collector: RegistryEventCollector;
}

/**
 * Reads a notification body — a distribution envelope (`{"events":[...]}`, v1 from 2.x, v2 from
 * 3.x), Harbor's default format or a Harbor CloudEvent — into validated events: the one parse
 * both the cleanups to queue ({@link parseNotification}) and the ledger's events
 * ({@link registryEventsOf}) come from. The format is detected from the body's shape; the content
 * type only matters for `application/cloudevents+json`, whose body must then be a CloudEvent.
 *
 * @param now the timestamp of events whose own is missing or invalid: when the post arrived
 * @throws WebhookPayloadError for malformed JSON, a body that is not an object, or an unknown shape.
 */
export function readNotification(body: string, contentType: string | undefined, now: Date): ReadNotification {
  const envelope = asRecord(parseJson(body));
  if (!envelope) throw new WebhookPayloadError('notification body is not a JSON object');
  const format = detectFormat(envelope, baseMediaType(contentType));
  const collector = new RegistryEventCollector(now);
  switch (format) {
    case 'distribution':
      if (!readDistributionEvents(envelope, collector)) {
        throw new WebhookPayloadError("notification 'events' is not an array");
      }
      break;
    case 'harbor':
      readHarborDefault(envelope, collector);
      break;
    case 'harbor-cloudevents':
      readHarborCloudEvent(envelope, collector);
      break;
  }
  return { format, collector };
}

/** The body as JSON (a leading byte order mark allowed). @throws WebhookPayloadError when it is not JSON. */
export function parseJson(body: string): unknown {
  try {
    // A byte order mark is legal in front of UTF-8 JSON on the wire, but JSON.parse refuses it.
    return JSON.parse(body.startsWith('\uFEFF') ? body.slice(1) : body);
  } catch (error) {
    // The cause's message quotes the body: it is kept for debugging, never returned to the caller.
    throw new WebhookPayloadError('notification body is not valid JSON', { cause: error });
  }
}

/**
 * The notification format, from the body's shape (and `application/cloudevents+json`, which requires a
 * CloudEvent). @throws WebhookPayloadError for an unrecognized shape.
 */
export function detectFormat(
  envelope: Record<string, unknown>,
  mediaType: string | undefined,
): NotificationFormat {
  if (mediaType === CLOUDEVENTS_JSON || field(envelope, 'specversion') !== undefined) {
    if (isHarborCloudEvent(envelope)) return 'harbor-cloudevents';
    throw new WebhookPayloadError('unrecognized notification format');
  }
  if (isDistributionEnvelope(envelope)) return 'distribution';
  if (isHarborDefault(envelope)) return 'harbor';
  throw new WebhookPayloadError('unrecognized notification format');
}
