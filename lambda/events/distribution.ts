import { field } from './pushes';

/** What distribution 2.x posts as the Content-Type of a notification envelope. */
export const DISTRIBUTION_EVENTS_V1 = 'application/vnd.docker.distribution.events.v1+json';
/** What distribution 3.x posts as the Content-Type of a notification envelope. */
export const DISTRIBUTION_EVENTS_V2 = 'application/vnd.docker.distribution.events.v2+json';

/**
 * The User-Agent prefix of regsweep's own registry requests. Pushes made by regsweep (the untag
 * placeholder manifests, restored manifests) come back as push events and must not start another
 * run; its pulls are not use.
 */
export const REGSWEEP_USER_AGENT_PREFIX = 'regsweep/';

/** True for a distribution envelope: an object with an `events` member. */
export function isDistributionEnvelope(envelope: Record<string, unknown>): boolean {
  return field(envelope, 'events') !== undefined;
}
