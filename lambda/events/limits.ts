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

/** SQS SendMessageBatch takes at most this many entries. */
export const MAX_QUEUE_BATCH_ENTRIES = 10;

/** SQS SendMessageBatch takes at most this many bytes of message bodies in one call (256 KiB). */
export const MAX_QUEUE_BATCH_BYTES = 256 * 1024;

/** SQS FIFO `MessageGroupId` and `MessageDeduplicationId` are at most this many characters. */
export const MAX_SQS_ID_LENGTH = 128;
