/** The largest webhook body accepted, in bytes (after base64 decoding); larger bodies get a 413. */
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

/**
 * The most events (distribution) or resources (Harbor) read from one envelope. The rest are
 * counted as ignored rather than rejected: a 4xx would make the registry retry the same envelope
 * forever, and no real registry batches this many.
 */
export const MAX_EVENTS_PER_ENVELOPE = 10_000;

/** Event ids longer than this (in characters) are replaced by their sha256, so messages stay small. */
export const MAX_EVENT_ID_LENGTH = 128;

/** The most event ids carried by one queue message; a repository with more is split into several messages. */
export const MAX_EVENT_IDS_PER_MESSAGE = 500;

/**
 * The most pushed tags (`pushed`) carried by one queue message: at most 128 + 160 characters and
 * some JSON each, so about 30 KiB, beside at most 500 event ids of 128 characters (about 65 KiB),
 * well inside SQS's 256 KiB per message. A repository with more distinct pushed tags in one
 * notification gets a message with the first ones and `pushedTruncated: true`, which the worker
 * only plans (it cannot hold what it was not told), leaving the removals to the next run.
 */
export const MAX_PUSHED_PER_MESSAGE = 100;

/** The longest digest accepted in a queue message's `pushed`, in characters (sha512 is 135). */
export const MAX_DIGEST_LENGTH = 160;

/**
 * How many continuations of one cleanup the worker queues when it nears its deadline; past that the
 * message fails (and, after the queue's retries, lands in the dead-letter queue).
 */
export const MAX_CONTINUATIONS = 20;

/** SQS SendMessageBatch takes at most this many entries. */
export const MAX_QUEUE_BATCH_ENTRIES = 10;

/** SQS SendMessageBatch takes at most this many bytes of message bodies in one call (256 KiB). */
export const MAX_QUEUE_BATCH_BYTES = 256 * 1024;

/** SQS FIFO `MessageGroupId` and `MessageDeduplicationId` are at most this many characters. */
export const MAX_SQS_ID_LENGTH = 128;
