/** Base class of every error raised by `lambda/events`; `code` is stable, `cause` is kept. */
export class EventsError extends Error {
  public readonly code: string;

  public constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventsError';
    this.code = code;
  }
}

/**
 * A webhook body that cannot be read as a notification: malformed JSON, not an object, or an
 * unrecognized format. The message is short and names no value from the body, so it is safe to
 * return to the caller in a 400 answer.
 */
export class WebhookPayloadError extends EventsError {
  public constructor(message: string, options?: { cause?: unknown }) {
    super('WEBHOOK_PAYLOAD_INVALID', message, options);
    this.name = 'WebhookPayloadError';
  }
}

/** A queue message that does not follow the CleanupMessage contract (or cannot be sent as one). */
export class CleanupMessageError extends EventsError {
  public constructor(message: string, options?: { cause?: unknown }) {
    super('CLEANUP_MESSAGE_INVALID', message, options);
    this.name = 'CleanupMessageError';
  }
}
