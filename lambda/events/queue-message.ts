import * as z from 'zod/mini';
import { isDigest, isTag, repositoryNameProblem } from '../domain';
import { CleanupMessageError } from './errors';
import {
  MAX_CONTINUATIONS,
  MAX_DIGEST_LENGTH,
  MAX_EVENT_ID_LENGTH,
  MAX_EVENT_IDS_PER_MESSAGE,
  MAX_PUSHED_PER_MESSAGE,
  MAX_QUEUE_BATCH_BYTES,
  MAX_QUEUE_BATCH_ENTRIES,
  MAX_SQS_ID_LENGTH,
} from './limits';
import { sha256Hex, type PushedRepository, type PushedTag } from './pushes';

/** The SQS message body of DESIGN.md: one repository to clean, and why. */
export interface CleanupMessage {
  repository: string;
  trigger: 'push' | 'schedule';
  /** The webhook event ids behind a push message; empty for a scheduled one. */
  eventIds: string[];
  /**
   * What the push events said was pushed (at most {@link MAX_PUSHED_PER_MESSAGE}): the registry
   * notifies before it links a tag, so the worker holds these digests until their tags resolve.
   */
  pushed?: PushedTag[];
  /** True when the events named more pushed tags than a message carries: the worker only plans. */
  pushedTruncated?: boolean;
  /** The run this cleanup belongs to (schedule: the run whose budget applies); kept by continuations. */
  runId?: string;
  /**
   * 0 (or absent) for the first message; n for the n-th continuation the worker queued when it
   * neared its deadline (at most {@link MAX_CONTINUATIONS}).
   */
  continuation?: number;
  /**
   * A continuation of a run with a budget: how many of the repository's removals the invocation
   * that queued it had reserved from the run's budget and not done. Only removals beyond these
   * are reserved again, so a repository cleaned in several invocations counts once.
   */
  reserved?: number;
  /**
   * A continuation: the id of the rest of its plan, which the invocation that queued it left in
   * the ledger (a pending plan). The continuation carries that out, re-verified, instead of
   * planning again; when the ledger no longer has it (or it no longer fits), it plans afresh.
   */
  plan?: string;
}

/** One `SendMessageBatch` entry for the FIFO queue. */
export interface QueueEntry {
  /** Unique within its batch, `[A-Za-z0-9_-]{1,80}`: matches `Failed[].Id` back to the message. */
  Id: string;
  MessageBody: string;
  /** The repository (hashed when longer than SQS allows), so one repository is cleaned at a time. */
  MessageGroupId: string;
  MessageDeduplicationId: string;
}

export interface QueueBatchOptions {
  /** Required for `schedule` messages: the same run (e.g. the schedule's time bucket) dedups to one message. */
  runId?: string;
}

const cleanupMessageSchema = z.object({
  repository: z.string('expected a string').check((ctx) => {
    const problem = repositoryNameProblem(ctx.value);
    if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
  }),
  trigger: z.enum(['push', 'schedule'], "expected 'push' or 'schedule'"),
  eventIds: z._default(
    z
      .array(
        z
          .string('expected a string')
          .check(
            z.minLength(1, 'expected a non-empty id'),
            z.maxLength(MAX_EVENT_ID_LENGTH, `expected at most ${MAX_EVENT_ID_LENGTH} characters`),
          ),
        'expected a list of event ids',
      )
      .check(z.maxLength(MAX_EVENT_IDS_PER_MESSAGE, `expected at most ${MAX_EVENT_IDS_PER_MESSAGE} ids`)),
    [],
  ),
  pushed: z.optional(
    z
      .array(
        z.object({
          tag: z.string('expected a string').check((ctx) => {
            if (!isTag(ctx.value))
              ctx.issues.push({ code: 'custom', message: 'expected a tag', input: ctx.value });
          }),
          digest: z
            .string('expected a string')
            .check(
              z.maxLength(MAX_DIGEST_LENGTH, `expected at most ${MAX_DIGEST_LENGTH} characters`),
              (ctx) => {
                if (!isDigest(ctx.value))
                  ctx.issues.push({ code: 'custom', message: 'expected a digest', input: ctx.value });
              },
            ),
        }),
        'expected a list of pushed tags',
      )
      .check(z.maxLength(MAX_PUSHED_PER_MESSAGE, `expected at most ${MAX_PUSHED_PER_MESSAGE} pushed tags`)),
  ),
  pushedTruncated: z.optional(z.boolean('expected true or false')),
  runId: z.optional(
    z
      .string('expected a string')
      .check(
        z.minLength(1, 'expected a non-empty id'),
        z.maxLength(MAX_EVENT_ID_LENGTH, `expected at most ${MAX_EVENT_ID_LENGTH} characters`),
      ),
  ),
  continuation: z.optional(
    z
      .int('expected a whole number')
      .check(
        z.gte(0, 'expected 0 or more'),
        z.lte(MAX_CONTINUATIONS, `expected at most ${MAX_CONTINUATIONS}`),
      ),
  ),
  reserved: z.optional(z.int('expected a whole number').check(z.gte(0, 'expected 0 or more'))),
  plan: z.optional(
    z
      .string('expected a string')
      .check(
        z.minLength(1, 'expected a non-empty id'),
        z.maxLength(MAX_EVENT_ID_LENGTH, `expected at most ${MAX_EVENT_ID_LENGTH} characters`),
      ),
  ),
});

/**
 * Parses and validates a queue message body (the worker's input).
 *
 * @throws CleanupMessageError naming the field, for bad JSON, a bad repository name, trigger or ids.
 */
export function parseCleanupMessage(body: string): CleanupMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new CleanupMessageError('queue message body is not valid JSON', { cause: error });
  }
  return validate(value);
}

/**
 * The queue messages for the repositories accepted by the webhook gate, each with what was pushed
 * (the first {@link MAX_PUSHED_PER_MESSAGE} tags; `pushedTruncated` says when there were more).
 */
export function toCleanupMessages(repositories: readonly PushedRepository[]): CleanupMessage[] {
  return repositories.map(({ repository, eventIds, pushed }) => ({
    repository,
    trigger: 'push',
    eventIds: [...eventIds],
    pushed: pushed.slice(0, MAX_PUSHED_PER_MESSAGE).map((entry) => ({ ...entry })),
    ...(pushed.length > MAX_PUSHED_PER_MESSAGE && { pushedTruncated: true }),
  }));
}

/**
 * The message that carries on a cleanup the worker stopped before its deadline: the same
 * repository, trigger, run, event ids and pushed tags, with the next continuation number and,
 * when the run has a budget, the removals reserved for the repository and not done (`reserved`),
 * and the id of the rest of the plan kept in the ledger (`plan`), when there is one.
 *
 * @throws CleanupMessageError when the message is already its {@link MAX_CONTINUATIONS}-th continuation.
 */
export function continuationOf(message: CleanupMessage, reserved?: number, plan?: string): CleanupMessage {
  const next = (message.continuation ?? 0) + 1;
  if (next > MAX_CONTINUATIONS) {
    throw new CleanupMessageError(
      `${message.repository}: still not done after ${MAX_CONTINUATIONS} continuations; not queueing another`,
    );
  }
  const { reserved: _previous, plan: _previousPlan, ...rest } = message;
  return {
    ...rest,
    continuation: next,
    ...(reserved !== undefined && reserved > 0 && { reserved }),
    ...(plan !== undefined && { plan }),
  };
}

/**
 * Builds `SendMessageBatch` entries, at most 10 per batch and 256 KiB of bodies per batch.
 * The group is the repository; the deduplication id is the sha256 of the repository and its sorted
 * event ids (push), or of the repository and `runId` (the message's, else `options.runId`:
 * schedule), so a retried webhook post or a re-run of the same schedule is dropped by SQS; a
 * continuation adds its number, so each is its own message. A push message with more than
 * {@link MAX_EVENT_IDS_PER_MESSAGE} ids is split into several messages of sorted ids, each with
 * the same `pushed`.
 *
 * @throws CleanupMessageError for an invalid message, or a schedule message without a `runId`.
 */
export function toQueueBatches(
  messages: readonly CleanupMessage[],
  options: QueueBatchOptions = {},
): QueueEntry[][] {
  const batches: QueueEntry[][] = [];
  let batch: QueueEntry[] = [];
  let batchBytes = 0;
  for (const message of messages.flatMap(splitByEventIds)) {
    const body = JSON.stringify(validate(message));
    const bytes = Buffer.byteLength(body, 'utf8');
    if (batch.length === MAX_QUEUE_BATCH_ENTRIES || batchBytes + bytes > MAX_QUEUE_BATCH_BYTES) {
      batches.push(batch);
      batch = [];
      batchBytes = 0;
    }
    batch.push({
      Id: entryId(batch.length, message.repository),
      MessageBody: body,
      MessageGroupId: groupId(message.repository),
      MessageDeduplicationId: deduplicationId(message, options.runId),
    });
    batchBytes += bytes;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

function validate(value: unknown): CleanupMessage {
  const result = cleanupMessageSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.length ? issue.path.join('.') : 'message';
    throw new CleanupMessageError(`invalid queue message: ${path}: ${issue?.message ?? 'invalid'}`, {
      cause: result.error,
    });
  }
  // The schema checked each digest with isDigest.
  return result.data as CleanupMessage;
}

function splitByEventIds(message: CleanupMessage): CleanupMessage[] {
  if (message.eventIds.length <= MAX_EVENT_IDS_PER_MESSAGE) return [message];
  // Sorted first, so the same ids always make the same chunks (and the same deduplication ids).
  const eventIds = [...new Set(message.eventIds)].sort();
  const chunks: CleanupMessage[] = [];
  for (let start = 0; start < eventIds.length; start += MAX_EVENT_IDS_PER_MESSAGE) {
    chunks.push({ ...message, eventIds: eventIds.slice(start, start + MAX_EVENT_IDS_PER_MESSAGE) });
  }
  return chunks;
}

function deduplicationId(message: CleanupMessage, optionRunId: string | undefined): string {
  const runId = message.runId ?? optionRunId;
  if (message.continuation) {
    // Unique per continuation of the same cleanup; the same continuation queued twice dedups.
    const eventIds = [...new Set(message.eventIds)].sort();
    return sha256Hex(
      JSON.stringify([
        'continuation',
        message.repository,
        message.trigger,
        runId ?? null,
        eventIds,
        message.continuation,
      ]),
    );
  }
  if (message.trigger === 'push') {
    const eventIds = [...new Set(message.eventIds)].sort();
    return sha256Hex(JSON.stringify(['push', message.repository, eventIds]));
  }
  if (typeof runId !== 'string' || runId.length === 0) {
    throw new CleanupMessageError('a schedule message needs a runId to deduplicate on');
  }
  return sha256Hex(JSON.stringify(['schedule', message.repository, runId]));
}

/** The repository itself, or (past SQS's 128 characters) a readable prefix plus its sha256. */
function groupId(repository: string): string {
  if (repository.length <= MAX_SQS_ID_LENGTH) return repository;
  const hash = sha256Hex(repository);
  return `${repository.slice(0, MAX_SQS_ID_LENGTH - hash.length - 1)}~${hash}`;
}

const MAX_ENTRY_ID_LENGTH = 80;

function entryId(index: number, repository: string): string {
  const readable = repository.replace(/[^A-Za-z0-9_-]/g, '_');
  return `${index}-${readable}`.slice(0, MAX_ENTRY_ID_LENGTH);
}
