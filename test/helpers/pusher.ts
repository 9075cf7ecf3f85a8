import { MANIFEST_ACCEPT, sha256Digest, isDigest, type Digest } from '../../lambda/domain';
import {
  buildImage,
  buildIndex,
  DEFAULT_INDEX_PLATFORMS,
  DEFAULT_LAYER_BYTES,
  parsePlatform,
  type Blob,
  type BuiltImage,
  type ImageKind,
} from './image-builder';
import { nextLink, rawRequest, RawHttpError, resolveAgainst, type RawAuth } from './raw-http';

export type { ImageKind } from './image-builder';
export type { RawAuth } from './raw-http';

/** How to build the synthetic image that `pushImage` pushes. */
export interface PushOptions {
  /** @default 'docker' */
  kind?: ImageKind;
  /**
   * The config's `created` (ISO 8601); null leaves the field out.
   * @default the time of the first push with this seed in this process (so equal seeds stay equal)
   */
  created?: string | null;
  /** `config.config.Labels`, e.g. `org.opencontainers.image.created`. */
  labels?: Record<string, string>;
  /** The top manifest's (or index's) `annotations`. */
  annotations?: Record<string, string>;
  /**
   * What makes the image unique: same seed and options give the same digest, so two tags can
   * share one digest. @default `<repository>:<tag>`
   */
  seed?: string;
  /** Platforms of an index's children. @default ['linux/amd64', 'linux/arm64'] */
  platforms?: string[];
  auth?: RawAuth;
  /** Size of the one layer; layers of equal size are shared by every image. @default 16 */
  layerBytes?: number;
}

/** What the registry stored for a pushed tag. */
export interface PushedImage {
  /** The manifest digest, as the registry answered it in `Docker-Content-Digest`. */
  digest: Digest;
  mediaType: string;
  /** For an index: the children's digests, in platform order. */
  children?: Digest[];
  /** Size of the (top) manifest in bytes. */
  bytes: number;
}

const defaultCreatedBySeed = new Map<string, string>();

/** Pushes a synthetic image (blobs first, then children, then the tagged manifest). */
export async function pushImage(
  registryUrl: string,
  repository: string,
  tag: string,
  options: PushOptions = {},
): Promise<PushedImage> {
  const kind = options.kind ?? 'docker';
  const seed = options.seed ?? `${repository}:${tag}`;
  let created = options.created;
  if (created === undefined) {
    created = defaultCreatedBySeed.get(seed) ?? new Date().toISOString();
    defaultCreatedBySeed.set(seed, created);
  }
  const content = {
    seed,
    created,
    layerBytes: options.layerBytes ?? DEFAULT_LAYER_BYTES,
    ...(options.labels && { labels: options.labels }),
  };
  const { auth } = options;

  if (kind === 'docker' || kind === 'oci') {
    const image = buildImage(kind, {
      ...content,
      platform: parsePlatform('linux/amd64'),
      ...(options.annotations && { annotations: options.annotations }),
    });
    await pushBlobs(registryUrl, repository, image.blobs, auth);
    const digest = await putManifestBytes(
      registryUrl,
      repository,
      tag,
      image.mediaType,
      image.manifest,
      auth,
    );
    return { digest, mediaType: image.mediaType, bytes: image.manifest.length };
  }

  const childFormat = kind === 'oci-index' ? 'oci' : 'docker';
  const platforms = options.platforms ?? DEFAULT_INDEX_PLATFORMS;
  const children: Array<{ image: BuiltImage; platform: string }> = platforms.map((platform) => ({
    platform,
    image: buildImage(childFormat, {
      ...content,
      seed: `${seed}@${platform}`,
      platform: parsePlatform(platform),
    }),
  }));
  // distribution checks that an index's children exist in the repository: push them first.
  await Promise.all(
    children.map(async ({ image }) => {
      await pushBlobs(registryUrl, repository, image.blobs, auth);
      await putManifestBytes(registryUrl, repository, image.digest, image.mediaType, image.manifest, auth);
    }),
  );
  const index = buildIndex(kind, children, options.annotations);
  const digest = await putManifestBytes(registryUrl, repository, tag, index.mediaType, index.manifest, auth);
  return {
    digest,
    mediaType: index.mediaType,
    children: children.map(({ image }) => image.digest),
    bytes: index.manifest.length,
  };
}

/** Uploads each blob the repository does not have yet (monolithic: POST, then PUT ?digest=). */
export async function pushBlobs(
  registryUrl: string,
  repository: string,
  blobs: Blob[],
  auth?: RawAuth,
): Promise<void> {
  // Sequential per image: the shared layer is usually present already, so this is HEAD + one upload.
  for (const blob of blobs) {
    const head = await rawRequest(`${registryUrl}/v2/${repository}/blobs/${blob.digest}`, {
      method: 'HEAD',
      auth,
    });
    if (head.status === 200) continue;
    if (head.status !== 404)
      throw new RawHttpError(`HEAD blob ${repository}@${blob.digest}`, head.status, '');
    const start = await rawRequest(`${registryUrl}/v2/${repository}/blobs/uploads/`, {
      method: 'POST',
      auth,
    });
    const location = start.headers.location;
    if (start.status !== 202 || !location) {
      throw new RawHttpError(`start upload to ${repository}`, start.status, start.body.toString());
    }
    const upload = resolveAgainst(`${registryUrl}/v2/${repository}/blobs/uploads/`, location);
    upload.searchParams.set('digest', blob.digest);
    const put = await rawRequest(upload, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.bytes.length) },
      body: blob.bytes,
      auth,
    });
    if (put.status !== 201)
      throw new RawHttpError(`upload ${repository}@${blob.digest}`, put.status, put.body.toString());
  }
}

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
