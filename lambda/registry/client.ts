import { Agent, type Dispatcher } from 'undici';

import { registryOrigin, type Digest } from '../domain';
import packageJson from '../../package.json';
import { Authenticator } from './authenticator';
import { repositoryScope } from './auth';
import { blobExists } from './blobs';
import { manifestCreated, readImageCreated } from './image-created';
import { responseError } from './errors';
import { listEntries } from './listing';
import {
  deleteByDigest,
  putManifest,
  readBlob,
  readDanglingRevision,
  readManifest,
  resolveManifest,
} from './manifests';
import { readReferrers, type ReferrerDescriptor } from './referrers';
import { AuthenticatedSession, type RegistrySession } from './session';
import { Transport } from './transport';
import { untag } from './untag';
import {
  checkDigest,
  checkReference,
  checkRepository,
  checkTag,
  nonNegativeInteger,
  positiveInteger,
} from './validation';
import type { ManifestContent, RegistryClientOptions, RequestStats, ResolvedManifest } from './types';

/** Default requests in flight. */
export const DEFAULT_CONCURRENCY = 8;
/** Default headers and body timeout of each request. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Idle keep-alive connections of the default Agent close after this long. */
export const KEEP_ALIVE_TIMEOUT_MS = 10_000;
const DEFAULT_RETRY = { maxRetries: 4, minDelayMs: 100, maxDelayMs: 5_000 } as const;

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
  private readonly session: RegistrySession;
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
    const transport = new Transport({
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
    this.stats = transport.stats;
    const auth = new Authenticator(transport, this.registry, options.credentials, options.clock);
    this.session = new AuthenticatedSession(this.registry, transport, auth);
  }

  /**
   * The digest and media type `reference` (a tag or digest) points at, or null when the
   * repository or manifest does not exist. One HEAD with the full Accept list when the registry
   * sends `Docker-Content-Digest` (or a digest Etag); otherwise a GET and the body's sha256.
   */
  public async resolve(repository: string, reference: string): Promise<ResolvedManifest | null> {
    return resolveManifest(this.session, repository, checkReference(repository, reference));
  }

  /** The manifest's bytes, digest (verified against them) and parsed JSON; capped at MAX_MANIFEST_BYTES. */
  public async getManifest(repository: string, reference: string): Promise<ManifestContent> {
    return readManifest(this.session, repository, checkReference(repository, reference));
  }

  /**
   * For a tag that is listed but whose manifest is gone (a digest DELETE that failed halfway):
   * the digest it still names, as distribution reports it. Undefined when the tag resolves, does
   * not exist, or the registry does not say.
   */
  public async danglingRevision(repository: string, tag: string): Promise<Digest | undefined> {
    return readDanglingRevision(this.session, repository, checkTag(repository, tag));
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
      ? manifestCreated(this.session, repository, manifest)
      : readImageCreated(this.session, repository, digest);
  }

  /**
   * The artifacts that refer to `digest` (their manifest's `subject`), from the OCI 1.1 referrers
   * API; null when the registry has none (distribution 2.8.2 and 3.1.1 answer 404).
   */
  public async referrers(repository: string, digest: Digest): Promise<ReferrerDescriptor[] | null> {
    return readReferrers(this.session, repository, checkDigest(repository, digest));
  }

  /** A blob's bytes, verified against its digest; capped at `maxBytes`. */
  public async getBlob(repository: string, digest: Digest, maxBytes: number): Promise<Buffer> {
    return readBlob(this.session, repository, checkDigest(repository, digest), maxBytes);
  }

  /** Whether the repository has the blob (HEAD; a garbage-collected blob is gone). */
  public async blobExists(repository: string, digest: Digest): Promise<boolean> {
    return blobExists(this.session, repository, checkDigest(repository, digest));
  }

  /** Every repository in the registry's catalog, page by page (following `Link: rel="next"`). */
  public async *catalog(options: { pageSize?: number } = {}): AsyncGenerator<string> {
    const first = new URL(`${this.registry}/v2/_catalog`);
    if (options.pageSize !== undefined)
      first.searchParams.set('n', String(positiveInteger('pageSize', options.pageSize)));
    const scopes = [{ type: 'registry', name: 'catalog', actions: ['*'] }];
    yield* listEntries(this.session, first.toString(), 'catalog', scopes, 'the catalog', 'repositories');
  }

  /** Every tag of `repository`, page by page; none when the repository is unknown (404). */
  public async *tags(repository: string, options: { pageSize?: number } = {}): AsyncGenerator<string> {
    checkRepository(repository);
    const first = new URL(`${this.registry}/v2/${repository}/tags/list`);
    if (options.pageSize !== undefined)
      first.searchParams.set('n', String(positiveInteger('pageSize', options.pageSize)));
    const scopes = [repositoryScope(repository, 'pull')];
    // distribution answers `"tags": null` for a repository whose tags were all deleted: no tags.
    yield* listEntries(this.session, first.toString(), 'tags', scopes, `the tags of ${repository}`, 'tags');
  }

  /**
   * Deletes a manifest by digest, which removes every tag pointing at it. A 404 is checked with a
   * HEAD: nothing there is 'already-gone' (a retried delete must be harmless), the manifest still
   * there is an error. Deletion turned off in the registry throws {@link DeletionDisabledError}.
   */
  public async deleteManifest(repository: string, digest: Digest): Promise<'deleted' | 'already-gone'> {
    return deleteByDigest(this.session, repository, checkDigest(repository, digest), [
      repositoryScope(repository, 'pull', 'delete'),
    ]);
  }

  /**
   * Removes one tag and nothing else: DELETE by tag where the registry supports it, otherwise
   * re-points the tag at a unique throw-away manifest and deletes that (needs push rights). A tag
   * DELETE answered 404 is checked with a HEAD: a tag that still resolves is an error.
   */
  public async untag(repository: string, tag: string): Promise<'delete-tag' | 'placeholder'> {
    return untag(this.session, repository, checkTag(repository, tag));
  }

  /** Pushes a manifest under a tag or digest; returns its digest (verified against the bytes). */
  public async putManifest(
    repository: string,
    reference: string,
    mediaType: string,
    bytes: Buffer,
  ): Promise<Digest> {
    return putManifest(this.session, repository, checkReference(repository, reference), mediaType, bytes, [
      repositoryScope(repository, 'pull', 'push'),
    ]);
  }

  /** `GET /v2/`: fails early (unreachable, bad credentials) before any real work. */
  public async ping(): Promise<void> {
    const response = await this.session.send({
      method: 'GET',
      url: `${this.registry}/v2/`,
      kind: 'ping',
      scopes: [],
      what: 'the API version check (GET /v2/)',
    });
    if (response.status !== 200) throw responseError(response, 'GET', 'the API version check (GET /v2/)');
  }

  /** Closes the default Agent's connections (an injected dispatcher is the caller's to close). */
  public async close(): Promise<void> {
    await this.ownedAgent?.close();
  }
}
