import { MANIFEST_ACCEPT, sha256Digest, isDigest, type Digest } from '../lambda/domain';
import { nextLink, rawRequest, RawHttpError, resolveAgainst, type RawAuth } from './raw-http';

/*
 * Raw Registry API V2 calls the tests check the client against: written straight on
 * undici so that they share no code with lambda/registry.
 */

/**
 * PUTs manifest bytes under a tag or digest and returns the registry's `Docker-Content-Digest`,
 * after checking it is the sha256 of exactly the bytes sent.
 */
export async function putManifestBytes(
  registryUrl: string,
  repository: string,
  reference: string,
  mediaType: string,
  bytes: Buffer,
  auth?: RawAuth,
): Promise<Digest> {
  const response = await rawRequest(`${registryUrl}/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'content-type': mediaType },
    body: bytes,
    auth,
  });
  if (response.status !== 201) {
    throw new RawHttpError(
      `PUT manifest ${repository}:${reference}`,
      response.status,
      response.body.toString(),
    );
  }
  const answered = response.headers['docker-content-digest'];
  const expected = sha256Digest(bytes);
  if (answered !== expected) {
    throw new Error(
      `PUT manifest ${repository}:${reference}: registry said ${answered}, bytes hash to ${expected}`,
    );
  }
  return expected;
}

/** Fetches a manifest by digest (full Accept list) and PUTs the same bytes under `tag`. */
export async function retag(
  registryUrl: string,
  repository: string,
  tag: string,
  digest: Digest,
  auth?: RawAuth,
): Promise<void> {
  const response = await rawRequest(`${registryUrl}/v2/${repository}/manifests/${digest}`, {
    headers: { accept: MANIFEST_ACCEPT.join(', ') },
    auth,
  });
  const mediaType = response.headers['content-type'];
  if (response.status !== 200 || !mediaType) {
    throw new RawHttpError(`GET manifest ${repository}@${digest}`, response.status, response.body.toString());
  }
  await putManifestBytes(registryUrl, repository, tag, mediaType, response.body, auth);
}

/** Every tag of a repository, following `Link` pages; [] when the repository is unknown. */
export async function listTagsRaw(
  registryUrl: string,
  repository: string,
  auth?: RawAuth,
  pageSize?: number,
): Promise<string[]> {
  const first = `${registryUrl}/v2/${repository}/tags/list${pageSize ? `?n=${pageSize}` : ''}`;
  const tags: string[] = [];
  for await (const page of pages(first, auth)) {
    if (page === undefined) return [];
    tags.push(...((page as { tags?: string[] | null }).tags ?? []));
  }
  return tags;
}

/** Every repository in the catalog, following `Link` pages. */
export async function listCatalogRaw(
  registryUrl: string,
  auth?: RawAuth,
  pageSize?: number,
): Promise<string[]> {
  const first = `${registryUrl}/v2/_catalog${pageSize ? `?n=${pageSize}` : ''}`;
  const repositories: string[] = [];
  for await (const page of pages(first, auth)) {
    repositories.push(...((page as { repositories?: string[] | null } | undefined)?.repositories ?? []));
  }
  return repositories;
}

/** Yields each JSON page (undefined for a 404), following `Link: <...>; rel="next"`. */
async function* pages(firstUrl: string, auth?: RawAuth): AsyncGenerator<unknown> {
  let url: string | undefined = firstUrl;
  while (url) {
    const response = await rawRequest(url, { auth });
    if (response.status === 404) {
      yield undefined;
      return;
    }
    if (response.status !== 200)
      throw new RawHttpError(`GET ${url}`, response.status, response.body.toString());
    yield JSON.parse(response.body.toString());
    const next = nextLink(response.headers.link);
    url = next === undefined ? undefined : resolveAgainst(url, next).href;
  }
}

/** The digest a tag or digest resolves to (HEAD, full Accept list); undefined on 404. */
export async function headDigestRaw(
  registryUrl: string,
  repository: string,
  reference: string,
  auth?: RawAuth,
): Promise<Digest | undefined> {
  const response = await rawRequest(`${registryUrl}/v2/${repository}/manifests/${reference}`, {
    method: 'HEAD',
    headers: { accept: MANIFEST_ACCEPT.join(', ') },
    auth,
  });
  if (response.status === 404) return undefined;
  const digest = response.headers['docker-content-digest'];
  if (response.status !== 200 || !isDigest(digest)) {
    throw new RawHttpError(`HEAD manifest ${repository}:${reference}`, response.status, '');
  }
  return digest;
}

/** DELETE a manifest by digest (or tag); returns the status, for tests of the registry itself. */
export async function deleteManifestRaw(
  registryUrl: string,
  repository: string,
  reference: string,
  auth?: RawAuth,
): Promise<number> {
  const response = await rawRequest(`${registryUrl}/v2/${repository}/manifests/${reference}`, {
    method: 'DELETE',
    auth,
  });
  return response.status;
}
