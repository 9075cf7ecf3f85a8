import type { Digest } from '../lambda/domain';
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
import { rawRequest, RawHttpError, resolveAgainst, type RawAuth } from './raw-http';
import { putManifestBytes } from './raw-registry';

export type { ImageKind } from './image-builder';
export type { RawAuth } from './raw-http';
export {
  deleteManifestRaw,
  headDigestRaw,
  listCatalogRaw,
  listTagsRaw,
  putManifestBytes,
  retag,
} from './raw-registry';

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
    const digest = await pushManifest(registryUrl, repository, tag, image, auth);
    return { digest, mediaType: image.mediaType, bytes: image.manifest.length };
  }

  const childFormat = kind === 'oci-index' ? 'oci' : 'docker';
  const platforms = options.platforms ?? DEFAULT_INDEX_PLATFORMS;
  const children = platforms.map((platform) => ({
    platform,
    image: buildImage(childFormat, {
      ...content,
      seed: `${seed}@${platform}`,
      platform: parsePlatform(platform),
    }),
  }));
  // distribution checks that an index's children exist in the repository: push them first.
  await Promise.all(
    children.map(({ image }) => pushManifest(registryUrl, repository, image.digest, image, auth)),
  );
  const index = buildIndex(kind, children, options.annotations);
  const digest = await pushManifest(registryUrl, repository, tag, { ...index, blobs: [] }, auth);
  return {
    digest,
    mediaType: index.mediaType,
    children: children.map(({ image }) => image.digest),
    bytes: index.manifest.length,
  };
}

/**
 * Uploads each blob the repository does not have yet (monolithic: POST, then PUT ?digest=).
 * Concurrent pushes from this process upload a shared blob once: see {@link withLock}.
 */
export async function pushBlobs(
  registryUrl: string,
  repository: string,
  blobs: Blob[],
  auth?: RawAuth,
): Promise<void> {
  for (const blob of blobs) {
    const key = lockKey(registryUrl, repository, blob.digest);
    if (knownBlobs.has(key)) continue;
    await withLock(key, () => uploadBlobIfMissing(registryUrl, repository, blob, auth));
    knownBlobs.add(key);
  }
}

/**
 * Blobs this process saw in a repository: the shared layer is then not even HEADed again (one
 * request in five when seeding thousands of tags). garbage-collect can remove a blob behind
 * this set's back, so a manifest PUT that answers BLOB_UNKNOWN forgets the repository's
 * entries and pushes its blobs once more.
 */
const knownBlobs = new Set<string>();

/**
 * Pushes an image's blobs, then PUTs its manifest under `reference`. A manifest pushed by
 * digest (an index child) that the repository already has is left alone.
 */
async function pushManifest(
  registryUrl: string,
  repository: string,
  reference: string,
  image: BuiltImage,
  auth: RawAuth | undefined,
): Promise<Digest> {
  const attempt = async (): Promise<Digest> => {
    await pushBlobs(registryUrl, repository, image.blobs, auth);
    return withLock(lockKey(registryUrl, repository, image.digest), async () => {
      if (reference === image.digest) {
        const url = `${registryUrl}/v2/${repository}/manifests/${image.digest}`;
        const head = await rawRequest(url, { method: 'HEAD', headers: { accept: image.mediaType }, auth });
        if (head.status === 200) return image.digest;
      }
      return putManifestBytes(registryUrl, repository, reference, image.mediaType, image.manifest, auth);
    });
  };
  try {
    return await attempt();
  } catch (error) {
    if (!(error instanceof RawHttpError && /"BLOB_UNKNOWN"|"MANIFEST_BLOB_UNKNOWN"/.test(error.body)))
      throw error;
    const prefix = lockKey(registryUrl, repository, '' as Digest);
    for (const key of knownBlobs) if (key.startsWith(prefix)) knownBlobs.delete(key);
    return attempt();
  }
}

async function uploadBlobIfMissing(
  registryUrl: string,
  repository: string,
  blob: Blob,
  auth: RawAuth | undefined,
): Promise<void> {
  const head = await rawRequest(`${registryUrl}/v2/${repository}/blobs/${blob.digest}`, {
    method: 'HEAD',
    auth,
  });
  if (head.status === 200) return;
  if (head.status !== 404) throw new RawHttpError(`HEAD blob ${repository}@${blob.digest}`, head.status, '');
  const start = await rawRequest(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST', auth });
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
  if (put.status !== 201) {
    throw new RawHttpError(`upload ${repository}@${blob.digest}`, put.status, put.body.toString());
  }
}

// distribution 2.8 rewrites a repository's link file for a blob or manifest on every upload or
// PUT of it by truncating and writing it again, so a concurrent reader (the HEAD or the
// manifest check of another push) can find it empty and answer BLOB_UNKNOWN. Pushes from one
// process therefore take turns per (registry, repository, digest), and skip what already exists.
const locks = new Map<string, Promise<unknown>>();

function lockKey(registryUrl: string, repository: string, digest: Digest): string {
  return `${registryUrl}|${repository}|${digest}`;
}

async function withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = locks.get(key) ?? Promise.resolve();
  const current = previous.catch(() => undefined).then(work);
  locks.set(key, current);
  try {
    return await current;
  } finally {
    // Drop the entry only if no later caller queued behind this one.
    if (locks.get(key) === current) locks.delete(key);
  }
}
