import { Agent, request, type Dispatcher } from 'undici';

import { assertLoopbackUrl } from './ports';

/** Credentials for a raw request: Basic, or a Bearer token the caller already obtained. */
export type RawAuth = { username: string; password: string } | { bearer: string };

/** A fully read response: headers lower-cased, one string per header (joined with ', '). */
export interface RawResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export interface RawRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  auth?: RawAuth;
  /** @default the harness's shared keep-alive agent */
  dispatcher?: Dispatcher;
}

/** Per-request ceiling: a hung registry fails a test quickly instead of at jest's timeout. */
export const RAW_REQUEST_TIMEOUT_MS = 15_000;

/**
 * One keep-alive agent for all harness traffic: seeding thousands of tags reuses connections.
 * Its sockets are unref'd by undici when idle, so it never holds a jest worker open.
 */
export const harnessAgent: Dispatcher = new Agent({
  connections: 64,
  keepAliveTimeout: 4_000,
  headersTimeout: RAW_REQUEST_TIMEOUT_MS,
  bodyTimeout: RAW_REQUEST_TIMEOUT_MS,
});

/** Error thrown when the registry answers something the harness did not expect. */
export class RawHttpError extends Error {
  public readonly status: number;
  public readonly body: string;
  public constructor(message: string, status: number, body: string, options?: { cause?: unknown }) {
    super(`${message}: HTTP ${status} ${body.slice(0, 500)}`, options);
    this.name = 'RawHttpError';
    this.status = status;
    this.body = body;
  }
}

/** The `Authorization` header value for `auth`. */
export function authorizationHeader(auth: RawAuth): string {
  if ('bearer' in auth) return `Bearer ${auth.bearer}`;
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
}

/** Sends one request to a 127.0.0.1 URL and reads the whole body (so the socket is reused). */
export async function rawRequest(url: string | URL, options: RawRequestOptions = {}): Promise<RawResponse> {
  const target = assertLoopbackUrl(String(url), 'raw request');
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth) headers.authorization = authorizationHeader(options.auth);
  const method = (options.method ?? 'GET') as Dispatcher.HttpMethod;
  const response = await request(target, {
    method,
    headers,
    ...(options.body !== undefined && { body: options.body }),
    dispatcher: options.dispatcher ?? harnessAgent,
  });
  const body = Buffer.from(await response.body.arrayBuffer());
  const flat: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { status: response.statusCode, headers: flat, body };
}

/** Resolves a `Location` or `Link` target against the URL that returned it; loopback only. */
export function resolveAgainst(base: string, reference: string): URL {
  return assertLoopbackUrl(new URL(reference, base).href, 'redirect target');
}

/** The `rel="next"` target of a `Link` header, if any. */
export function nextLink(link: string | undefined): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const match = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(part.trim());
    if (match) return match[1];
  }
  return undefined;
}
