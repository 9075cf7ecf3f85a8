import {
  asJsonObject,
  baseMediaType,
  digestInAlgorithmOf,
  isDigest,
  isSchema1,
  isTag,
  MANIFEST_ACCEPT,
  MediaType,
  parseManifest,
  type Digest,
} from '../domain';
import { repositoryScope, type Scope } from './auth';
import {
  deletionDisabled,
  DigestMismatchError,
  isDeletionDisabled,
  isNotFound,
  RegistryError,
  responseError,
} from './errors';
import { firstHeader, parseJsonBody, type TransportResponse } from './http';
import { isPlaceholderFor, placeholderSize } from './placeholder';
import type { RegistrySession } from './session';
import type { ManifestContent, ResolvedManifest } from './types';

/** The largest manifest regsweep reads; real ones are a few KiB, big indexes a few hundred. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const ACCEPT = MANIFEST_ACCEPT.join(', ');
/** Content types that say nothing about the manifest's own media type. */
const GENERIC_CONTENT_TYPES: ReadonlySet<string> = new Set([
  'application/json',
  'text/plain',
  'application/octet-stream',
]);

/** HEAD first; falls back to a GET when the registry sends no digest or no media type. */
export async function resolveManifest(
  session: RegistrySession,
  repository: string,
  reference: string,
): Promise<ResolvedManifest | null> {
  const what = `manifest ${display(repository, reference)}`;
  const response = await session.send({
    method: 'HEAD',
    url: manifestUrl(session, repository, reference),
    kind: 'head-manifest',
    scopes: [repositoryScope(repository, 'pull')],
    headers: { accept: ACCEPT },
    what,
  });
  if (response.status === 404) return null;
  if (response.status !== 200) throw responseError(response, 'HEAD', `resolving ${what}`);
  const digest = announcedDigest(response);
  const mediaType = manifestMediaType(response);
  if (digest !== undefined && isDigest(reference) && digest !== reference) {
    throw new DigestMismatchError(`resolving ${what}`, reference, digest, {
      method: 'HEAD',
      url: response.url,
    });
  }
  if (digest !== undefined && mediaType !== undefined) {
    const size = Number(firstHeader(response.headers['content-length']));
    // Only a manifest of exactly a placeholder's type and size is read to tell whether it is one.
    const maybePlaceholder =
      mediaType === MediaType.OciManifest && isTag(reference) && size === placeholderSize(reference);
    if (!maybePlaceholder) return { digest, mediaType, ...(Number.isInteger(size) && size > 0 && { size }) };
  }
  let content: ManifestContent;
  try {
    content = await readManifest(session, repository, reference);
  } catch (error) {
    // The manifest vanished between HEAD and GET: the same answer a 404 HEAD gives.
    if (isNotFound(error)) return null;
    throw error;
  }
  return resolvedFrom(content, reference);
}

/** What a GET of `reference` tells about it, in the form `resolve` answers. */
export function resolvedFrom(content: ManifestContent, reference: string): ResolvedManifest {
  return {
    digest: content.digest,
    mediaType: content.mediaType,
    size: content.bytes.length,
    ...(isPlaceholderFor(content, reference) && { placeholder: true }),
  };
}

/**
 * The manifest digest a tag still names after the manifest itself is gone: distribution answers
 * the GET of such a dangling tag 404 `MANIFEST_UNKNOWN` with the revision in its detail
 * (`{"Name": ..., "Revision": "sha256:..."}`), where a tag that does not exist has `{"Tag": ...}`.
 * Undefined when the tag resolves, does not exist, or the registry does not say.
 */
export async function readDanglingRevision(
  session: RegistrySession,
  repository: string,
  tag: string,
): Promise<Digest | undefined> {
  try {
    await readManifest(session, repository, tag);
    return undefined;
  } catch (error) {
    if (!isNotFound(error)) throw error;
    for (const diagnostic of (error as RegistryError).diagnostics ?? []) {
      const revision = (diagnostic.detail as { Revision?: unknown } | null | undefined)?.Revision;
      if (diagnostic.code === 'MANIFEST_UNKNOWN' && isDigest(revision)) return revision;
    }
    return undefined;
  }
}

/**
 * GETs a manifest (at most {@link MAX_MANIFEST_BYTES}, streamed) and checks its bytes against
 * every digest at hand: the one asked for, and the one the registry announces.
 */
export async function readManifest(
  session: RegistrySession,
  repository: string,
  reference: string,
): Promise<ManifestContent> {
  const what = `manifest ${display(repository, reference)}`;
  const response = await session.send({
    method: 'GET',
    url: manifestUrl(session, repository, reference),
    kind: 'get-manifest',
    scopes: [repositoryScope(repository, 'pull')],
    headers: { accept: ACCEPT },
    maxBodyBytes: MAX_MANIFEST_BYTES,
    what,
  });
  if (response.status !== 200) throw responseError(response, 'GET', `reading ${what}`);
  const body = asJsonObject(parseJsonBody(response, 'GET', `reading ${what}`));
  if (body === undefined) {
    throw new RegistryError(`reading ${what}: the manifest is not a JSON object`, {
      method: 'GET',
      url: response.url,
    });
  }
  const mediaType =
    manifestMediaType(response) ??
    (typeof body.mediaType === 'string' ? body.mediaType : undefined) ??
    (body.schemaVersion === 1 ? MediaType.DockerSchema1Signed : MediaType.DockerManifest);
  const announced = announcedDigest(response);
  // A signed schema1 manifest's digest covers the payload without its signatures, so its bytes
  // cannot match; only there is the announced digest taken on trust.
  const verifiable = !isSchema1(mediaType);
  for (const expected of [isDigest(reference) ? reference : undefined, announced]) {
    if (expected === undefined || !verifiable) continue;
    const actual = digestInAlgorithmOf(expected, response.body);
    if (actual !== undefined && actual !== expected) {
      throw new DigestMismatchError(`reading ${what}`, expected, actual, {
        method: 'GET',
        url: response.url,
      });
    }
  }
  const digest = isDigest(reference)
    ? reference
    : (announced ?? (digestInAlgorithmOf('sha256:', response.body) as Digest));
  return { digest, mediaType, bytes: response.body, json: body, manifest: parseManifest(mediaType, body) };
}

/** GETs a blob (following storage redirects without credentials) and verifies its digest. */
export async function readBlob(
  session: RegistrySession,
  repository: string,
  digest: Digest,
  maxBytes: number,
): Promise<Buffer> {
  const what = `blob ${repository}@${digest}`;
  const response = await session.send({
    method: 'GET',
    url: `${session.origin}/v2/${repository}/blobs/${digest}`,
    kind: 'get-blob',
    scopes: [repositoryScope(repository, 'pull')],
    maxBodyBytes: maxBytes,
    what,
  });
  if (response.status !== 200) throw responseError(response, 'GET', `reading ${what}`);
  const actual = digestInAlgorithmOf(digest, response.body);
  if (actual !== undefined && actual !== digest) {
    throw new DigestMismatchError(`reading ${what}`, digest, actual, { method: 'GET', url: response.url });
  }
  return response.body;
}

/** PUTs a manifest; the digest the registry announces must be the digest of the bytes sent. */
export async function putManifest(
  session: RegistrySession,
  repository: string,
  reference: string,
  mediaType: string,
  bytes: Buffer,
  scopes: readonly Scope[],
): Promise<Digest> {
  const what = `manifest ${display(repository, reference)}`;
  const response = await session.send({
    method: 'PUT',
    url: manifestUrl(session, repository, reference),
    kind: 'put-manifest',
    scopes,
    headers: { 'content-type': mediaType },
    body: bytes,
    // Same bytes to the same reference: sending it twice does no harm.
    idempotent: true,
    what,
  });
  if (response.status < 200 || response.status >= 300) {
    throw responseError(response, 'PUT', `pushing ${what}`);
  }
  const computed = digestInAlgorithmOf('sha256:', bytes) as Digest;
  const announced = announcedDigest(response);
  if (announced !== undefined) {
    const actual = digestInAlgorithmOf(announced, bytes);
    if (actual !== undefined && actual !== announced) {
      throw new DigestMismatchError(`pushing ${what}`, announced, actual, {
        method: 'PUT',
        url: response.url,
      });
    }
    return announced;
  }
  return computed;
}

/**
 * DELETE by digest with the given scopes, which removes every tag pointing at it. A 404 is checked,
 * not trusted: when a HEAD of the digest finds nothing either it is 'already-gone' (a retried
 * delete must be harmless); when the manifest is still there it is an error naming that answer.
 * Deletion turned off in the registry throws {@link DeletionDisabledError}.
 */
export async function deleteByDigest(
  session: RegistrySession,
  repository: string,
  digest: Digest,
  scopes: readonly Scope[],
): Promise<'deleted' | 'already-gone'> {
  const response = await sendDigestDelete(session, repository, digest, scopes);
  if (response.status >= 200 && response.status < 300) return 'deleted';
  if ((await resolveManifest(session, repository, digest)) === null) return 'already-gone';
  throw untrueNotFound(response, `deleting manifest ${repository}@${digest}`, 'the manifest still resolves');
}

/**
 * Sends a DELETE by digest: 2xx and 404 come back as the response, anything else (deletion turned
 * off: {@link DeletionDisabledError}) is thrown.
 */
export async function sendDigestDelete(
  session: RegistrySession,
  repository: string,
  digest: Digest,
  scopes: readonly Scope[],
): Promise<TransportResponse> {
  const what = `manifest ${repository}@${digest}`;
  const response = await session.send({
    method: 'DELETE',
    url: manifestUrl(session, repository, digest),
    kind: 'delete-manifest',
    scopes,
    what,
  });
  if ((response.status >= 200 && response.status < 300) || response.status === 404) return response;
  const error = responseError(response, 'DELETE', `deleting ${what}`);
  if (isDeletionDisabled(error)) throw deletionDisabled(session.origin, error);
  throw error;
}

/**
 * The error for a DELETE answered 404 while what it named is still there. It carries no status or
 * code of its own: it must never read as "not found" (done) to whoever catches it.
 */
export function untrueNotFound(response: TransportResponse, what: string, still: string): RegistryError {
  const answered = responseError(response, 'DELETE', what).message;
  return new RegistryError(`${answered}, yet ${still}: it was not removed`, {
    method: 'DELETE',
    url: response.url,
  });
}

/** `Docker-Content-Digest`, else a strong `Etag` that is a digest. */
function announcedDigest(response: TransportResponse): Digest | undefined {
  const header = firstHeader(response.headers['docker-content-digest'])?.trim();
  if (isDigest(header)) return header;
  const etag = firstHeader(response.headers.etag)?.trim();
  if (etag === undefined || etag.startsWith('W/')) return undefined;
  const unquoted = etag.replace(/^"(.*)"$/, '$1');
  return isDigest(unquoted) ? unquoted : undefined;
}

function manifestMediaType(response: TransportResponse): string | undefined {
  const mediaType = baseMediaType(firstHeader(response.headers['content-type']));
  return mediaType === undefined || GENERIC_CONTENT_TYPES.has(mediaType) ? undefined : mediaType;
}

function manifestUrl(session: RegistrySession, repository: string, reference: string): string {
  // Repository and reference were checked against their grammars: nothing in them needs encoding.
  return `${session.origin}/v2/${repository}/manifests/${reference}`;
}

function display(repository: string, reference: string): string {
  return isDigest(reference) ? `${repository}@${reference}` : `${repository}:${reference}`;
}
