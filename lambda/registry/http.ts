import { RegistryError } from './errors';
import type { RequestKind } from './types';

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

/** Sends one request and answers whatever the registry said: what each transport layer wraps. */
export type SendRequest = (request: TransportRequest) => Promise<TransportResponse>;

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
