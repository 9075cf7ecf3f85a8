import { createHash } from 'node:crypto';
import { asJsonObject, type Digest } from '../domain';
import { MAX_EVENT_ID_LENGTH, MAX_EVENTS_PER_ENVELOPE } from './limits';
import type { TagPush } from './registry-event';

/** A tag an event says was pushed, and the digest it was pushed at. */
export interface PushedTag {
  tag: string;
  digest: Digest;
}

/** A repository named by accepted push events, with the event ids (for dedup) and tags pushed. */
export interface PushedRepository {
  repository: string;
  eventIds: string[];
  tags: string[];
  /**
   * Each tag's last push with a valid digest, in first-seen order: the registry notifies before it
   * links a tag, so these digests are held until their tags resolve to them. A push whose event
   * has no valid digest still queues its repository, but holds nothing.
   */
  pushed: PushedTag[];
}

/** The notification formats understood by {@link parseNotification}. */
export type NotificationFormat = 'distribution' | 'harbor' | 'harbor-cloudevents';

/** What a notification body asks for: one entry per repository, and how many events were dropped. */
export interface ParsedNotification {
  repositories: PushedRepository[];
  /** Events (or Harbor resources) that were not manifest pushes with a valid repository and tag. */
  ignored: number;
  format: NotificationFormat;
}

// Printable ASCII without spaces: safe in a JSON message body, in logs and in SQS (which refuses
// some Unicode code points, e.g. U+FFFF, that JSON.stringify does not escape).
const SAFE_EVENT_ID = new RegExp(`^[\\x21-\\x7e]{1,${MAX_EVENT_ID_LENGTH}}$`);

/**
 * The event id to deduplicate on: the payload's own id when it is a short printable string, its
 * sha256 when it is some other string, else the sha256 of the identifying fields (Harbor's default
 * format has no id). The same input always yields the same id, so a retried post deduplicates.
 */
export function eventIdOf(rawId: unknown, identifyingFields: readonly unknown[]): string {
  if (typeof rawId === 'string' && rawId.length > 0) {
    return SAFE_EVENT_ID.test(rawId) ? rawId : sha256Hex(rawId);
  }
  const fields = identifyingFields.map((field) =>
    typeof field === 'string' || typeof field === 'number' ? String(field) : null,
  );
  return sha256Hex(JSON.stringify(fields));
}

/** Hex sha256 of a string's UTF-8 bytes. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * Merges accepted pushes per repository, in the order repositories first appeared. The pushes
 * come validated (repository name, tag and digest are checked once, by the events collector).
 */
export class PushCollector {
  /** How many pushes were added. */
  public accepted = 0;
  private readonly byRepository = new Map<
    string,
    { eventIds: Set<string>; tags: Set<string>; pushed: Map<string, Digest> }
  >();

  /** Adds one push. A later push of the same tag replaces its digest: only what the tag is to resolve to is held. */
  public add(push: TagPush): void {
    let entry = this.byRepository.get(push.repository);
    if (!entry) {
      entry = { eventIds: new Set(), tags: new Set(), pushed: new Map() };
      this.byRepository.set(push.repository, entry);
    }
    entry.eventIds.add(push.id);
    entry.tags.add(push.tag);
    if (push.digest !== undefined) entry.pushed.set(push.tag, push.digest);
    this.accepted += 1;
  }

  /** One entry per repository, in the order repositories first appeared. */
  public repositories(): PushedRepository[] {
    return [...this.byRepository].map(([repository, entry]) => ({
      repository,
      eventIds: [...entry.eventIds],
      tags: [...entry.tags],
      pushed: [...entry.pushed].map(([tag, digest]) => ({ tag, digest })),
    }));
  }
}

/** The value as a plain JSON object, or undefined for arrays, null and primitives. */
export const asRecord = asJsonObject;

/** An own property of a parsed JSON object (never one inherited from Object.prototype). */
export function field(record: Record<string, unknown> | undefined, key: string): unknown {
  return record !== undefined && Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/**
 * Visits at most {@link MAX_EVENTS_PER_ENVELOPE} of a payload's items, in order, and counts the
 * rest as ignored: the one bound every notification parser applies.
 */
export function visitBounded(
  items: readonly unknown[],
  counter: { ignore(count: number): void },
  visit: (item: unknown, index: number) => void,
): void {
  const readable = Math.min(items.length, MAX_EVENTS_PER_ENVELOPE);
  counter.ignore(items.length - readable);
  for (let index = 0; index < readable; index += 1) visit(items[index], index);
}
