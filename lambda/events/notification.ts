import { baseMediaType } from '../domain';
import { collectDistributionEvents, isDistributionEnvelope } from './distribution';
import { WebhookPayloadError } from './errors';
import {
  CLOUDEVENTS_JSON,
  collectHarborCloudEvent,
  collectHarborDefault,
  isHarborCloudEvent,
  isHarborDefault,
} from './harbor';
import { asRecord, field, PushCollector, type NotificationFormat, type ParsedNotification } from './pushes';

/**
 * Parses a notification body: a distribution envelope (`{"events":[...]}`), Harbor's default
 * format or a Harbor CloudEvent. The format is detected from the body's shape; the content type
 * only matters for `application/cloudevents+json`, whose body must then be a CloudEvent.
 *
 * A valid envelope with nothing to act on yields no repositories (the caller answers 2xx, so the
 * registry does not retry it forever); events with invalid repository names or tags are counted in
 * `ignored`, they do not fail the envelope.
 *
 * @throws WebhookPayloadError for malformed JSON, a body that is not an object, or an unknown shape.
 */
export function parseNotification(body: string, contentType?: string): ParsedNotification {
  const envelope = asRecord(parseJson(body));
  if (!envelope) throw new WebhookPayloadError('notification body is not a JSON object');
  const format = detectFormat(envelope, baseMediaType(contentType));
  const collector = new PushCollector();
  switch (format) {
    case 'distribution':
      if (!collectDistributionEvents(envelope, collector)) {
        throw new WebhookPayloadError("notification 'events' is not an array");
      }
      break;
    case 'harbor':
      collectHarborDefault(envelope, collector);
      break;
    case 'harbor-cloudevents':
      collectHarborCloudEvent(envelope, collector);
      break;
  }
  return { repositories: collector.repositories(), ignored: collector.ignored, format };
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
