import { asJsonObject, MediaType, parseManifest, type Digest } from '../domain';
import { repositoryScope } from './auth';
import { responseError } from './errors';
import { MAX_MANIFEST_BYTES } from './manifests';
import type { RegistrySession } from './session';

/** One artifact a referrers answer lists: its manifest's digest, and what kind of artifact it is. */
export interface ReferrerDescriptor {
  readonly digest: Digest;
  readonly mediaType?: string;
  readonly artifactType?: string;
}

/**
 * Statuses that say "this registry has no referrers API" (distribution 2.8.2 and 3.1.1 answer
 * 404 to `/v2/<repo>/referrers/<digest>`; others answer 400, 405 or 501 to a route they lack).
 */
const NOT_SUPPORTED: ReadonlySet<number> = new Set([400, 404, 405, 501]);

/**
 * `GET /v2/<repository>/referrers/<digest>` (OCI distribution 1.1): the artifacts whose manifest
 * has `subject` = `digest`. Null when the registry has no referrers API (or answers with
 * something that is not an index: no referrers can be read from it). A registry with the API
 * answers 200 with an index, empty when nothing refers to the digest.
 */
export async function readReferrers(
  session: RegistrySession,
  repository: string,
  digest: Digest,
): Promise<ReferrerDescriptor[] | null> {
  const what = `the referrers of ${repository}@${digest}`;
  const response = await session.send({
    method: 'GET',
    url: `${session.origin}/v2/${repository}/referrers/${digest}`,
    kind: 'referrers',
    scopes: [repositoryScope(repository, 'pull')],
    headers: { accept: MediaType.OciIndex },
    maxBodyBytes: MAX_MANIFEST_BYTES,
    what,
  });
  if (NOT_SUPPORTED.has(response.status)) return null;
  if (response.status !== 200) throw responseError(response, 'GET', `reading ${what}`);
  let body: unknown;
  try {
    body = JSON.parse(response.body.toString('utf8'));
  } catch {
    return null;
  }
  // An answer without a `manifests` array is not an index: no referrers can be read from it.
  if (!Array.isArray(asJsonObject(body)?.manifests)) return null;
  return parseManifest(MediaType.OciIndex, body).children.map(
    ({ digest: child, mediaType, artifactType }): ReferrerDescriptor => ({
      digest: child,
      ...(mediaType !== '' && { mediaType }),
      ...(artifactType !== undefined && { artifactType }),
    }),
  );
}
