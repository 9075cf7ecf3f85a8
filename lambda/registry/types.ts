import type { Dispatcher } from 'undici';

import type { Digest, ParsedManifest } from '../domain';

/** Registry credentials: a user and password (Basic, and for the Bearer token flow), or a ready bearer token. */
export type Credentials = { username: string; password: string } | { token: string };

/**
 * Supplies credentials lazily. Called on the first challenge, and again with `refresh: true`
 * once after the registry or its token service refused the current ones (a rotated secret).
 */
export type CredentialsProvider = (context?: { refresh: boolean }) => Promise<Credentials | undefined>;

/** Every kind of request the client sends, for {@link RegistryClient.stats} and progress callbacks. */
export const REQUEST_KINDS = [
  'ping',
  'token',
  'catalog',
  'tags',
  'head-manifest',
  'get-manifest',
  'get-blob',
  'head-blob',
  'upload-blob',
  'put-manifest',
  'delete-manifest',
  'referrers',
] as const;

/** What a request is for. */
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** Counts of requests actually sent (every attempt, redirect and token fetch), by kind, plus retries. */
export type RequestStats = Record<RequestKind, number> & { retries: number };

/** Called after every request attempt (status undefined when no response arrived). */
export type RequestObserver = (info: { method: string; kind: RequestKind; status?: number }) => void;

/** How the client retries temporary failures. */
export interface RetryOptions {
  /** @default 4 */
  readonly maxRetries?: number;
  /** @default 100 */
  readonly minDelayMs?: number;
  /** @default 5_000 */
  readonly maxDelayMs?: number;
}

/** Configuration of a {@link RegistryClient}. */
export interface RegistryClientOptions {
  /** Base URL `http(s)://host[:port]`, with no path, query or credentials. */
  readonly registry: string;
  /** Credentials, or a provider called lazily (and once more after a refusal). @default anonymous */
  readonly credentials?: Credentials | CredentialsProvider;
  /**
   * An undici dispatcher to send requests with (never the global one).
   * @default new Agent({ connections: concurrency, keepAliveTimeout: 10 s }), closed by `close()`
   */
  readonly dispatcher?: Dispatcher;
  /** Requests in flight at most. @default 8 */
  readonly concurrency?: number;
  /** Headers timeout and body (idle) timeout of each request. @default 30_000 */
  readonly timeoutMs?: number;
  readonly retry?: RetryOptions;
  /** @default `regsweep/<version of package.json>` */
  readonly userAgent?: string;
  /** Progress / metrics hook, called after every attempt. */
  readonly onRequest?: RequestObserver;
  /** The clock token lifetimes are measured by (ms since the epoch), for tests. @default Date.now */
  readonly clock?: () => number;
}

/** What a tag or digest resolves to. */
export interface ResolvedManifest {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size?: number;
  /**
   * True when the tag points at a placeholder regsweep pushed to untag it: an untag stopped
   * between re-pointing the tag and deleting the placeholder. Deleting the placeholder's
   * digest finishes it (no other tag can share that digest).
   */
  readonly placeholder?: boolean;
}

/** A manifest with its exact bytes (the digest is of these bytes), its JSON, and its descriptors. */
export interface ManifestContent {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly bytes: Buffer;
  readonly json: Record<string, unknown>;
  /** The body parsed once (children, subject, config, layers, annotations): what callers read. */
  readonly manifest: ParsedManifest;
}
