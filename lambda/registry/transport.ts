import { setTimeout as sleep } from 'node:timers/promises';

import type { Dispatcher } from 'undici';

import { backoffDelayMs, parseRetryAfter, type BackoffSettings } from './backoff';
import {
  ForeignHostError,
  RegistryError,
  RegistryUnreachableError,
  ResponseTooLargeError,
  isTemporaryFailure,
} from './errors';
import { Semaphore } from './semaphore';
import { REQUEST_KINDS, type RequestKind, type RequestObserver, type RequestStats } from './types';

/** Error bodies are read up to this size (the registry's JSON errors are tiny); the rest is dropped. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** Storage backends redirect blob reads (S3, GCS); more hops than this is a loop. */
export const MAX_REDIRECTS = 5;
/** Connection refused is retried only briefly: a registry that is down stays down for a while. */
const MAX_REFUSED_RETRIES = 2;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** Network codes that mean "nothing is listening there" rather than "the connection broke". */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);
/** Statuses retried even for non-idempotent requests: the server says it did not do the work. */
const NOT_PROCESSED_STATUSES: ReadonlySet<number> = new Set([429, 503]);

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';

/** One logical request; the transport may send it several times (retries, redirects). */
export interface TransportRequest {
  readonly method: HttpMethod;
  readonly url: string;
  readonly kind: RequestKind;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  /** The cap on a successful (2xx) response body. */
  readonly maxBodyBytes: number;
  /** What is being read, for messages: "manifest apps/web:latest". */
  readonly what: string;
  /**
   * Safe to send again after a broken connection or a 5xx. Non-idempotent requests are
   * retried only on 429 and 503 (the server says it did not do the work).
   */
  readonly idempotent: boolean;
}

/** A response with its body fully read (within the cap). */
export interface TransportResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  /** The URL that answered (after redirects). */
  readonly url: string;
}

/** Settings of a {@link Transport}. */
export interface TransportSettings {
  readonly dispatcher: Dispatcher;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly backoff: BackoffSettings;
  readonly userAgent: string;
  readonly onRequest?: RequestObserver;
}

/**
 * Sends requests through an undici dispatcher with: a concurrency bound, a User-Agent on every
 * request, header and body timeouts, capped streaming body reads, redirects for reads (dropping
 * Authorization when they leave the origin), and retries with full-jitter backoff honouring
 * Retry-After. Knows nothing about authentication: a 401 is returned like any other answer.
 */
export class Transport {
  public readonly stats: RequestStats;
  private readonly semaphore: Semaphore;

  public constructor(private readonly settings: TransportSettings) {
    this.semaphore = new Semaphore(settings.concurrency);
    this.stats = Object.assign(Object.fromEntries(REQUEST_KINDS.map((kind) => [kind, 0])), {
      retries: 0,
    }) as RequestStats;
  }

  /** Sends `request`, retrying temporary failures; returns the final answer whatever its status. */
  public async send(request: TransportRequest): Promise<TransportResponse> {
    const { maxRetries } = this.settings;
    for (let attempt = 0; ; attempt += 1) {
      let response: TransportResponse;
      try {
        response = await this.sendFollowingRedirects(request);
      } catch (error) {
        const code = errorCode(error);
        const retriesAllowed =
          code === 'ECONNREFUSED' ? Math.min(maxRetries, MAX_REFUSED_RETRIES) : maxRetries;
        if (
          attempt < retriesAllowed &&
          request.idempotent &&
          !(error instanceof ResponseTooLargeError) &&
          isTemporaryFailure({ method: request.method, code })
        ) {
          await this.pause(attempt);
          continue;
        }
        throw this.networkError(request, error, code);
      }
      const retryable = request.idempotent
        ? isTemporaryFailure({ method: request.method, statusCode: response.status })
        : NOT_PROCESSED_STATUSES.has(response.status);
      if (!retryable || attempt >= maxRetries) return response;
      await this.pause(attempt, parseRetryAfter(response.headers['retry-after']));
    }
  }

  private async pause(attempt: number, retryAfterMs?: number): Promise<void> {
    this.stats.retries += 1;
    await sleep(backoffDelayMs(attempt, this.settings.backoff, retryAfterMs));
  }

  private async sendFollowingRedirects(request: TransportRequest): Promise<TransportResponse> {
    const follows = request.method === 'GET' || request.method === 'HEAD';
    const origin = new URL(request.url).origin;
    let url = request.url;
    let headers = request.headers ?? {};
    for (let hop = 0; ; hop += 1) {
      const response = await this.sendOnce(request, url, headers);
      const location = firstHeader(response.headers.location);
      if (!follows || !REDIRECT_STATUSES.has(response.status) || location === undefined) return response;
      if (hop >= MAX_REDIRECTS) {
        throw new RegistryError(`${request.what}: more than ${MAX_REDIRECTS} redirects`, {
          method: request.method,
          url: request.url,
          statusCode: response.status,
        });
      }
      const next = new URL(location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new RegistryError(`${request.what}: redirected to an unsupported scheme ${next.protocol}`, {
          method: request.method,
          url,
        });
      }
      if (next.origin !== origin) {
        // Storage backends legitimately redirect blob reads to another host, but the registry's
        // credentials must never travel there: the signed URL carries its own authorization.
        // Nothing else has a reason to leave the registry: manifests, tag lists, the catalog
        // and tokens are refused rather than fetched from wherever a registry points.
        if (request.kind !== 'get-blob') {
          throw new ForeignHostError(
            `${request.what}: the registry redirected the request to ${next.origin}; refusing to follow it`,
            { method: request.method, url, statusCode: response.status },
          );
        }
        headers = withoutAuthorization(headers);
      }
      url = next.toString();
    }
  }

  private async sendOnce(
    request: TransportRequest,
    url: string,
    headers: Readonly<Record<string, string>>,
  ): Promise<TransportResponse> {
    const target = new URL(url);
    const release = await this.semaphore.acquire();
    let status: number | undefined;
    try {
      this.stats[request.kind] += 1;
      const answer = await this.settings.dispatcher.request({
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method: request.method,
        headers: {
          ...headers,
          'user-agent': this.settings.userAgent,
          ...(request.body && { 'content-length': String(request.body.length) }),
        },
        ...(request.body && { body: request.body }),
        // undici closes the connection after every HEAD unless told otherwise (a guard against
        // servers that send a body anyway); registries answer HEAD with headers only, and a new
        // TCP connection per tag costs both sides more than the request itself (bench/).
        ...(request.method === 'HEAD' && { reset: false }),
        headersTimeout: this.settings.timeoutMs,
        bodyTimeout: this.settings.timeoutMs,
      });
      status = answer.statusCode;
      const success = status >= 200 && status < 300;
      const body =
        request.method === 'HEAD' || REDIRECT_STATUSES.has(status)
          ? await drain(answer.body)
          : await readBody(answer.body, success ? request.maxBodyBytes : MAX_ERROR_BODY_BYTES, {
              truncate: !success,
              contentLength: firstHeader(answer.headers['content-length']),
              onTooLarge: (limit) =>
                new ResponseTooLargeError(request.what, limit, {
                  method: request.method,
                  url,
                  statusCode: status,
                }),
            });
      return { status, headers: answer.headers, body, url };
    } finally {
      release();
      this.settings.onRequest?.({
        method: request.method,
        kind: request.kind,
        ...(status !== undefined && { status }),
      });
    }
  }

  private networkError(request: TransportRequest, error: unknown, code: string | undefined): RegistryError {
    if (error instanceof RegistryError) return error;
    const reason = error instanceof Error ? error.message : String(error);
    const options = { method: request.method, url: request.url, ...(code && { code }), cause: error };
    if (code && UNREACHABLE_CODES.has(code)) {
      return new RegistryUnreachableError(new URL(request.url).origin, `${reason} (${code})`, options);
    }
    return new RegistryError(
      `${request.what}: ${request.method} failed: ${reason}${code ? ` (${code})` : ''}`,
      options,
    );
  }
}

/** Parses a JSON response body, or throws a RegistryError saying what was being read. */
export function parseJsonBody(response: TransportResponse, method: string, what: string): unknown {
  try {
    return JSON.parse(response.body.toString('utf8'));
  } catch (cause) {
    throw new RegistryError(`${what}: the registry answered with invalid JSON`, {
      method,
      url: response.url,
      statusCode: response.status,
      cause,
    });
  }
}

/** The first value of a header that may repeat. */
export function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function withoutAuthorization(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'),
  );
}

function errorCode(error: unknown): string | undefined {
  // undici wraps some socket errors; the interesting code may sit on the cause.
  for (let current: unknown = error, depth = 0; current && depth < 3; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

async function drain(body: Dispatcher.ResponseData['body']): Promise<Buffer> {
  await body.dump();
  return Buffer.alloc(0);
}

/**
 * Reads a body chunk by chunk and stops as soon as it passes `limit`: a hostile or broken
 * registry cannot make regsweep buffer more than `limit` bytes. A declared Content-Length above
 * the limit is refused before reading anything.
 */
async function readBody(
  body: Dispatcher.ResponseData['body'],
  limit: number,
  options: { truncate: boolean; contentLength?: string; onTooLarge: (limit: number) => Error },
): Promise<Buffer> {
  if (!options.truncate && options.contentLength !== undefined && Number(options.contentLength) > limit) {
    body.destroy();
    throw options.onTooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    if (length + buffer.length > limit) {
      body.destroy();
      if (options.truncate) {
        chunks.push(buffer.subarray(0, limit - length));
        return Buffer.concat(chunks);
      }
      throw options.onTooLarge(limit);
    }
    chunks.push(buffer);
    length += buffer.length;
  }
  return Buffer.concat(chunks);
}
