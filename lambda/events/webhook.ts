import { bearerTokenMatches } from './auth';
import { WebhookPayloadError } from './errors';
import { MAX_WEBHOOK_BODY_BYTES } from './limits';
import { readNotification } from './envelope';
import { pushesOf } from './notification';
import type { PushedRepository } from './pushes';
import type { RegistryEvent } from './registry-event';

/** An HTTP request as both adapters see it: a Lambda Function URL event or a Node `IncomingMessage`. */
export interface WebhookRequest {
  /** The HTTP method; a missing method is taken as POST. */
  method?: string;
  /** Header names in any case (Function URLs and Node lower-case them). */
  headers: Record<string, string | undefined>;
  body?: string | null;
  /** True when `body` is base64 (Function URLs encode the registry's `application/vnd.*` bodies). */
  isBase64Encoded?: boolean;
}

/** The answer to give the sender, and the repositories to queue when it is a 202. */
export interface WebhookDecision {
  statusCode: 202 | 400 | 401 | 405 | 413;
  /** Short and free of request content: safe to send back. */
  message: string;
  repositories: PushedRepository[];
  ignored: number;
  /**
   * Every manifest event of the notification (pushes, pulls, deletes), validated, for the ledger:
   * the same parse the repositories come from. Empty unless 202.
   */
  events: readonly RegistryEvent[];
}

export interface WebhookOptions {
  /** The token the sender must present as `Authorization: Bearer <token>`. */
  webhookToken: string;
  /** When the post arrived: the timestamp of events whose own is missing or invalid. Default: now. */
  now?: Date;
  /**
   * The largest body accepted, in decoded bytes.
   * @default MAX_WEBHOOK_BODY_BYTES (1 MiB)
   */
  maxBodyBytes?: number;
}

const BASE64 = /^[A-Za-z0-9+/]*$/;

/**
 * The whole webhook gate: method (405), bearer token in constant time (401, checked before the
 * body is touched), size of the raw and the decoded body (413), base64 decoding and notification
 * parsing (400), then 202 with the pushed repositories and the events for the ledger. Never throws: any input yields one of
 * these five statuses, so a bad request can never turn into a 5xx.
 */
export function acceptWebhook(request: WebhookRequest, options: WebhookOptions): WebhookDecision {
  try {
    return decide(request, options);
  } catch (error) {
    // A WebhookPayloadError is the ordinary 400. Anything else would be a bug: it is still a 400,
    // because a 5xx would make the registry retry the same post forever.
    const message = error instanceof WebhookPayloadError ? error.message : 'invalid notification';
    return reject(400, message);
  }
}

function decide(request: WebhookRequest, options: WebhookOptions): WebhookDecision {
  const method = request.method === undefined ? 'POST' : request.method;
  if (typeof method !== 'string' || method.toUpperCase() !== 'POST') return reject(405, 'method not allowed');

  if (!bearerTokenMatches(header(request.headers, 'authorization'), options.webhookToken)) {
    return reject(401, 'missing or invalid bearer token');
  }

  const maxBodyBytes = bodyLimit(options.maxBodyBytes);
  const raw = typeof request.body === 'string' ? request.body : '';
  const base64 = request.isBase64Encoded === true;
  // Measure the raw text before decoding anything: a huge body is refused without work.
  if (raw.length > (base64 ? base64Length(maxBodyBytes) : maxBodyBytes)) return tooLarge(maxBodyBytes);

  let body: string;
  if (base64) {
    const bytes = decodeBase64(raw);
    if (bytes === undefined) return reject(400, 'body is not valid base64');
    if (bytes.length > maxBodyBytes) return tooLarge(maxBodyBytes);
    const decoded = decodeUtf8(bytes);
    if (decoded === undefined) return reject(400, 'body is not valid UTF-8');
    body = decoded;
  } else {
    if (Buffer.byteLength(raw, 'utf8') > maxBodyBytes) return tooLarge(maxBodyBytes);
    body = raw;
  }
  if (body.trim() === '') return reject(400, 'body is empty');

  const read = readNotification(body, header(request.headers, 'content-type'), options.now ?? new Date());
  const notification = pushesOf(read);
  const count = notification.repositories.length;
  return {
    statusCode: 202,
    message: `accepted ${count} ${count === 1 ? 'repository' : 'repositories'}, ignored ${notification.ignored} ${
      notification.ignored === 1 ? 'event' : 'events'
    }`,
    repositories: notification.repositories,
    ignored: notification.ignored,
    events: read.collector.events,
  };
}

/** Case-insensitive header lookup; the first string value wins. */
function header(headers: WebhookRequest['headers'], name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  for (const key of Object.keys(headers)) {
    const value = headers[key];
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  }
  return undefined;
}

function bodyLimit(maxBodyBytes: number | undefined): number {
  return typeof maxBodyBytes === 'number' && Number.isFinite(maxBodyBytes) && maxBodyBytes >= 0
    ? Math.floor(maxBodyBytes)
    : MAX_WEBHOOK_BODY_BYTES;
}

/** Characters of padded base64 for this many bytes. */
function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

/** Strict base64 (padding optional); Buffer.from alone would skip invalid characters silently. */
function decodeBase64(text: string): Buffer | undefined {
  const unpadded = text.endsWith('==') ? text.slice(0, -2) : text.endsWith('=') ? text.slice(0, -1) : text;
  if (unpadded.length % 4 === 1 || !BASE64.test(unpadded)) return undefined;
  if (unpadded.length !== text.length && text.length % 4 !== 0) return undefined;
  return Buffer.from(unpadded, 'base64');
}

function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function tooLarge(maxBodyBytes: number): WebhookDecision {
  return reject(413, `body is larger than ${maxBodyBytes} bytes`);
}

function reject(statusCode: 400 | 401 | 405 | 413, message: string): WebhookDecision {
  return { statusCode, message, repositories: [], ignored: 0, events: [] };
}
