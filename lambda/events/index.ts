export { EventsError, WebhookPayloadError, CleanupMessageError } from './errors';
export * from './limits';
export type { PushedRepository, PushedTag, ParsedNotification, NotificationFormat } from './pushes';
export { DISTRIBUTION_EVENTS_V1, DISTRIBUTION_EVENTS_V2, REGSWEEP_USER_AGENT_PREFIX } from './distribution';
export {
  HARBOR_PUSH_ARTIFACT,
  HARBOR_PULL_ARTIFACT,
  HARBOR_DELETE_ARTIFACT,
  HARBOR_CLOUDEVENTS_PUSHED,
  HARBOR_CLOUDEVENTS_PULLED,
  HARBOR_CLOUDEVENTS_DELETED,
  CLOUDEVENTS_JSON,
} from './harbor';
export { parseNotification } from './notification';
export type { RegistryEvent, RegistryAction } from './registry-event';
export { registryEventsOf, type RegistryEvents, type RegistryEventsOptions } from './registry-events';
export { bearerTokenMatches } from './auth';
export { acceptWebhook, type WebhookRequest, type WebhookDecision, type WebhookOptions } from './webhook';
export {
  parseCleanupMessage,
  toCleanupMessages,
  continuationOf,
  toQueueBatches,
  type CleanupMessage,
  type QueueEntry,
  type QueueBatchOptions,
} from './queue-message';
