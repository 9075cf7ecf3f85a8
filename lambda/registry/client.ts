import { Agent, type Dispatcher } from 'undici';

import type { Digest } from '../domain';
import packageJson from '../../package.json';
import { Authenticator, type AuthAttempt } from './authenticator';
import { repositoryScope, type Scope } from './auth';
import { manifestCreated, readImageCreated } from './image-created';
import { listEntries, MAX_LIST_PAGE_BYTES } from './listing';
import { putManifest, readBlob, readDanglingRevision, readManifest, resolveManifest } from './manifests';
import { registryOrigin } from './registry-url';
import {
  DeletionDisabledError,
  ForeignHostError,
  RegistryError,
  isDeletionDisabled,
  parseErrorBody,
} from './errors';
import { Transport, type HttpMethod, type TransportResponse } from './transport';
import { untag } from './untag';
import {
  checkDigest,
  checkReference,
  checkRepository,
  checkTag,
  nonNegativeInteger,
  positiveInteger,
} from './validation';
import type {
  ManifestContent,
  RegistryClientOptions,
  RequestKind,
  RequestStats,
  ResolvedManifest,
} from './types';

/** Default requests in flight. */
export const DEFAULT_CONCURRENCY = 8;
/** Default headers and body timeout of each request. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Idle keep-alive connections of the default Agent close after this long. */
export const KEEP_ALIVE_TIMEOUT_MS = 10_000;
const DEFAULT_RETRY = { maxRetries: 4, minDelayMs: 100, maxDelayMs: 5_000 } as const;

/** One request to the configured registry, as the client's operations describe it. */
export interface RegistryCall {
  readonly method: HttpMethod;
  /** Absolute URL on the registry's origin (anything else is refused). */
  readonly url: string;
  readonly kind: RequestKind;
  /** Token scopes the request needs (Bearer registries). */
  readonly scopes: readonly Scope[];
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  readonly maxBodyBytes?: number;
  readonly what: string;
  readonly idempotent?: boolean;
}

/**
 * A client of one Docker/OCI registry (Registry HTTP API V2 / OCI distribution spec): resolves
 * tags to digests, reads manifests and image ages, lists repositories and tags, deletes
 * manifests and untags. Authentication (anonymous, Basic, Bearer tokens), retries, the
 * concurrency bound and response size caps are handled below every method.
 */
export class RegistryClient {
  /** The registry origin, e.g. `http://127.0.0.1:5000`. */
  public readonly registry: string;
  /** Requests actually sent, by kind, and retries: for progress and for measuring cost. */
  public readonly stats: RequestStats;
  private readonly transport: Transport;
  private readonly auth: Authenticator;
  private readonly ownedAgent?: Agent;

  public constructor(options: RegistryClientOptions) {
    this.registry = registryOrigin(options.registry);
    const concurrency = positiveInteger('concurrency', options.concurrency ?? DEFAULT_CONCURRENCY);
    const retry = { ...DEFAULT_RETRY, ...options.retry };
    let dispatcher: Dispatcher | undefined = options.dispatcher;
    if (!dispatcher) {
      this.ownedAgent = new Agent({ connections: concurrency, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS });
      dispatcher = this.ownedAgent;
    }
    this.transport = new Transport({
      dispatcher,
      concurrency,
      timeoutMs: positiveInteger('timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      maxRetries: nonNegativeInteger('retry.maxRetries', retry.maxRetries),
      backoff: {
        minDelayMs: nonNegativeInteger('retry.minDelayMs', retry.minDelayMs),
        maxDelayMs: nonNegativeInteger('retry.maxDelayMs', retry.maxDelayMs),
      },
      userAgent: options.userAgent ?? `regsweep/${packageJson.version}`,
      ...(options.onRequest && { onRequest: options.onRequest }),
    });
    this.stats = this.transport.stats;
    this.auth = new Authenticator(this.transport, this.registry, options.credentials);
  }

  /**
   * The digest and media type `reference` (a tag or digest) points at, or null when the
   * repository or manifest does not exist. One HEAD with the full Accept list when the registry
   * sends `Docker-Content-Digest` (or a digest Etag); otherwise a GET and the body's sha256.
   */
  public async resolve(repository: string, reference: string): Promise<ResolvedManifest | null> {
    return resolveManifest(this, repository, checkReference(repository, reference));
  }

  /** The manifest's bytes, digest (verified against them) and parsed JSON; capped at MAX_MANIFEST_BYTES. */
  public async getManifest(repository: string, reference: string): Promise<ManifestContent> {
    return readManifest(this, repository, checkReference(repository, reference));
  }

  /**
   * For a tag that is listed but whose manifest is gone (a digest DELETE that failed halfway):
   * the digest it still names, as distribution reports it. Undefined when the tag resolves, does
   * not exist, or the registry does not say.
   */
  public async danglingRevision(repository: string, tag: string): Promise<Digest | undefined> {
    return readDanglingRevision(this, repository, checkTag(repository, tag));
  }

  /**
   * When the image was built: the config's `created`, else the created label or annotation; for
   * an index, the newest of its children. Undefined when unknown (or 1970). Given the manifest's
   * content (from `getManifest`), the manifest is not read again.
   */
  public async imageCreated(
    repository: string,
    manifest: ResolvedManifest | ManifestContent,
  ): Promise<Date | undefined> {
    const digest = checkReference(repository, manifest.digest) as Digest;
    return 'json' in manifest
      ? manifestCreated(this, repository, manifest)
      : readImageCreated(this, repository, digest);
  }

  /** A blob's bytes, verified against its digest; capped at `maxBytes`. */
  public async getBlob(repository: string, digest: Digest, maxBytes: number): Promise<Buffer> {
    return readBlob(this, repository, checkDigest(repository, digest), maxBytes);
  }

  /** Every repository in the registry's catalog, page by page (following `Link: rel="next"`). */
  public async *catalog(options: { pageSize?: number } = {}): AsyncGenerator<string> {
    const first = new URL(`${this.registry}/v2/_catalog`);
    if (options.pageSize !== undefined)
      first.searchParams.set('n', String(positiveInteger('pageSize', options.pageSize)));
    const scopes = [{ type: 'registry', name: 'catalog', actions: ['*'] }];
    yield* listEntries(this, first.toString(), 'catalog', scopes, 'the catalog', 'repositories');
  }

  /** Every tag of `repository`, page by page; none when the repository is unknown (404). */
  public async *tags(repository: string, options: { pageSize?: number } = {}): AsyncGenerator<string> {
    checkRepository(repository);
    const first = new URL(`${this.registry}/v2/${repository}/tags/list`);
    if (options.pageSize !== undefined)
      first.searchParams.set('n', String(positiveInteger('pageSize', options.pageSize)));
    const scopes = [repositoryScope(repository, 'pull')];
    // distribution answers `"tags": null` for a repository whose tags were all deleted: no tags.
    yield* listEntries(this, first.toString(), 'tags', scopes, `the tags of ${repository}`, 'tags');
  }

  /**
   * Deletes a manifest by digest, which removes every tag pointing at it. 404 is success
   * ('already-gone'): a retried delete must be harmless. Deletion turned off in the registry
   * throws {@link DeletionDisabledError}.
   */
  public async deleteManifest(repository: string, digest: Digest): Promise<'deleted' | 'already-gone'> {
    return this.deleteByDigest(repository, checkDigest(repository, digest), [
      repositoryScope(repository, 'pull', 'delete'),
    ]);
  }

  /**
   * Removes one tag and nothing else: DELETE by tag where the registry supports it, otherwise
   * re-points the tag at a unique throw-away manifest and deletes that (needs push rights).
   */
  public async untag(repository: string, tag: string): Promise<'delete-tag' | 'placeholder'> {
    return untag(this, repository, checkTag(repository, tag));
  }

  /** Pushes a manifest under a tag or digest; returns its digest (verified against the bytes). */
  public async putManifest(
    repository: string,
    reference: string,
    mediaType: string,
    bytes: Buffer,
  ): Promise<Digest> {
    return putManifest(this, repository, checkReference(repository, reference), mediaType, bytes, [
      repositoryScope(repository, 'pull', 'push'),
    ]);
  }

  /** `GET /v2/`: fails early (unreachable, bad credentials) before any real work. */
  public async ping(): Promise<void> {
    const response = await this.send({
      method: 'GET',
      url: `${this.registry}/v2/`,
      kind: 'ping',
      scopes: [],
      what: 'the API version check (GET /v2/)',
    });
    if (response.status !== 200)
      throw this.responseError(response, 'GET', 'the API version check (GET /v2/)');
  }

  /** Closes the default Agent's connections (an injected dispatcher is the caller's to close). */
  public async close(): Promise<void> {
    await this.ownedAgent?.close();
  }

  /**
   * Sends one request to the registry with authentication: anonymous first, then whatever the
   * challenge asks for, with one fresh token / one credentials refetch after a refusal.
   * @internal used by the operation modules of this folder
   */
  public async send(call: RegistryCall): Promise<TransportResponse> {
    if (new URL(call.url).origin !== this.registry) {
      throw new ForeignHostError(
        `refusing to send a request for ${call.what} to ${new URL(call.url).origin}`,
        {
          method: call.method,
          url: call.url,
        },
      );
    }
    const attempt: AuthAttempt = {
      scopes: [...call.scopes],
      renewedToken: false,
      refetchedCredentials: false,
      rounds: 0,
    };
    for (;;) {
      const authorization = await this.auth.authorization(attempt.scopes);
      const response = await this.transport.send({
        method: call.method,
        url: call.url,
        kind: call.kind,
        headers: { ...call.headers, ...(authorization !== undefined && { authorization }) },
        ...(call.body && { body: call.body }),
        maxBodyBytes: call.maxBodyBytes ?? MAX_LIST_PAGE_BYTES,
        what: call.what,
        idempotent: call.idempotent ?? call.method !== 'POST',
      });
      if (response.status !== 401) return response;
      await this.auth.unauthorized(response, call.method, authorization, attempt);
    }
  }

  /**
   * A {@link RegistryError} describing an unexpected answer, with the registry's own diagnostics.
   * @internal
   */
  public responseError(response: TransportResponse, method: string, what: string): RegistryError {
    const diagnostics = parseErrorBody(response.body);
    const first = diagnostics[0];
    const detail = first ? ` ${first.code}${first.message ? `: ${first.message}` : ''}` : '';
    return new RegistryError(`${what}: the registry answered HTTP ${response.status}${detail}`, {
      method,
      url: response.url,
      statusCode: response.status,
      ...(first && { code: first.code }),
      diagnostics,
    });
  }

  /** DELETE by digest with the given scopes: shared by deleteManifest and untag. @internal */
  public async deleteByDigest(
    repository: string,
    digest: Digest,
    scopes: readonly Scope[],
  ): Promise<'deleted' | 'already-gone'> {
    const what = `manifest ${repository}@${digest}`;
    const response = await this.send({
      method: 'DELETE',
      url: `${this.registry}/v2/${repository}/manifests/${digest}`,
      kind: 'delete-manifest',
      scopes,
      what,
    });
    if (response.status >= 200 && response.status < 300) return 'deleted';
    if (response.status === 404) return 'already-gone';
    const error = this.responseError(response, 'DELETE', `deleting ${what}`);
    if (isDeletionDisabled(error)) throw this.deletionDisabled(error);
    throw error;
  }

  /** @internal */
  public deletionDisabled(error: RegistryError): DeletionDisabledError {
    return new DeletionDisabledError(this.registry, {
      method: error.method,
      url: error.url,
      ...(error.statusCode !== undefined && { statusCode: error.statusCode }),
      ...(error.code !== undefined && { code: error.code }),
      ...(error.diagnostics && { diagnostics: error.diagnostics }),
    });
  }
}
