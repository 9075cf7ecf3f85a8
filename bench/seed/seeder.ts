import pMap from 'p-map';
import { Agent, request, type Dispatcher } from 'undici';

import type { Digest } from '../../lambda/domain';
import {
  buildImage,
  buildIndex,
  DEFAULT_INDEX_PLATFORMS,
  DEFAULT_LAYER_BYTES,
  parsePlatform,
  sharedLayer,
  type Blob,
} from '../../tools/image-builder';
import { assertLoopbackUrl } from '../../tools/ports';
import { createdAt, type SeedRepository, type SeedTag } from './scenario';

/** Uploads in flight while seeding: the registry's writes are mostly file system work. */
export const SEED_CONCURRENCY = 32;
const SEED_REQUEST_TIMEOUT_MS = 30_000;

/** What seeding did. */
export interface SeedResult {
  readonly tags: number;
  readonly manifests: number;
  readonly blobs: number;
  readonly requests: number;
  readonly seconds: number;
}

/** One manifest PUT (blobs first): a tagged image or index, or an index's platform child. */
interface ManifestPush {
  readonly repository: string;
  readonly reference: string;
  readonly mediaType: string;
  readonly bytes: Buffer;
  readonly digest: Digest;
  readonly blobs: readonly Blob[];
}

/**
 * Pushes a scenario into an empty registry, fast: a bench-only seeder on one keep-alive undici
 * Agent with {@link SEED_CONCURRENCY} requests in flight. Each repository gets the shared layer
 * once; then every image (config blob, then manifest) goes in parallel, index children before
 * their index; tags sharing a digest are pushed last, one after another per digest (distribution
 * rewrites a digest's link file in place on every PUT, so concurrent PUTs of one digest race).
 */
export async function seedRegistry(
  registryUrl: string,
  repositories: readonly SeedRepository[],
  seedTimeMs: number,
): Promise<SeedResult> {
  assertLoopbackUrl(registryUrl, 'bench registry');
  const started = performance.now();
  const agent = new Agent({ connections: SEED_CONCURRENCY, keepAliveTimeout: 4_000 });
  const counters = { requests: 0, blobs: 0, manifests: 0 };
  const send = async (
    url: string,
    options: { method: Dispatcher.HttpMethod; headers?: Record<string, string>; body?: Buffer },
  ): Promise<{ status: number; location?: string; body: string }> => {
    counters.requests += 1;
    const response = await request(url, {
      ...options,
      dispatcher: agent,
      headersTimeout: SEED_REQUEST_TIMEOUT_MS,
      bodyTimeout: SEED_REQUEST_TIMEOUT_MS,
    });
    const body = await response.body.text();
    const location = response.headers.location;
    return { status: response.statusCode, body, ...(typeof location === 'string' && { location }) };
  };
  const uploadBlob = async (repository: string, blob: Blob): Promise<void> => {
    const start = await send(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    if (start.status !== 202 || !start.location)
      throw new Error(`POST upload: ${start.status} ${start.body}`);
    const target = new URL(start.location, registryUrl);
    assertLoopbackUrl(target.href, 'upload location');
    target.searchParams.set('digest', blob.digest);
    const put = await send(target.href, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: blob.bytes,
    });
    if (put.status !== 201) throw new Error(`PUT blob ${blob.digest}: ${put.status} ${put.body}`);
    counters.blobs += 1;
  };
  const putManifest = async (push: ManifestPush): Promise<void> => {
    for (const blob of push.blobs) await uploadBlob(push.repository, blob);
    const put = await send(`${registryUrl}/v2/${push.repository}/manifests/${push.reference}`, {
      method: 'PUT',
      headers: { 'content-type': push.mediaType },
      body: push.bytes,
    });
    if (put.status !== 201)
      throw new Error(`PUT ${push.repository}:${push.reference}: ${put.status} ${put.body}`);
    counters.manifests += 1;
  };

  try {
    const layer = sharedLayer(DEFAULT_LAYER_BYTES);
    await pMap(repositories, (repository) => uploadBlob(repository.name, layer), {
      concurrency: SEED_CONCURRENCY,
    });
    const own: Array<{ repository: string; tag: SeedTag }> = [];
    const aliases: Array<{ repository: string; tag: SeedTag }> = [];
    for (const repository of repositories) {
      for (const tag of repository.tags)
        (tag.aliasOf ? aliases : own).push({ repository: repository.name, tag });
    }
    const pushed = new Map<string, ManifestPush>();
    await pMap(
      own,
      async ({ repository, tag }) => {
        const pushes = manifestPushes(repository, tag, seedTimeMs);
        const top = pushes.pop() as ManifestPush;
        await Promise.all(pushes.map(putManifest));
        await putManifest(top);
        pushed.set(`${repository}:${tag.tag}`, top);
      },
      { concurrency: SEED_CONCURRENCY },
    );
    // Aliases of one digest go one after another; different digests in parallel.
    const byDigest = new Map<string, ManifestPush[]>();
    for (const { repository, tag } of aliases) {
      const target = pushed.get(`${repository}:${tag.aliasOf}`);
      if (!target) throw new Error(`alias ${repository}:${tag.tag} of unknown tag ${tag.aliasOf}`);
      const key = `${repository}@${target.digest}`;
      const group = byDigest.get(key) ?? [];
      group.push({ ...target, reference: tag.tag, blobs: [] });
      byDigest.set(key, group);
    }
    await pMap(
      [...byDigest.values()],
      async (group) => {
        for (const push of group) await putManifest(push);
      },
      { concurrency: SEED_CONCURRENCY },
    );
    return {
      tags: own.length + aliases.length,
      ...counters,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await agent.close();
  }
}

/** The manifest PUTs of one tag, the tagged manifest last (index children first). */
function manifestPushes(repository: string, tag: SeedTag, seedTimeMs: number): ManifestPush[] {
  const content = {
    seed: tag.seed,
    created: createdAt(seedTimeMs, tag.ageDays),
    layerBytes: DEFAULT_LAYER_BYTES,
  };
  // The shared layer is uploaded once per repository, up front.
  const layer = sharedLayer(DEFAULT_LAYER_BYTES).digest;
  const ownBlobs = (blobs: readonly Blob[]): Blob[] => blobs.filter((blob) => blob.digest !== layer);
  if (tag.kind === 'docker' || tag.kind === 'oci') {
    const image = buildImage(tag.kind, { ...content, platform: parsePlatform('linux/amd64') });
    return [
      {
        repository,
        reference: tag.tag,
        mediaType: image.mediaType,
        bytes: image.manifest,
        digest: image.digest,
        blobs: ownBlobs(image.blobs),
      },
    ];
  }
  const childFormat = tag.kind === 'oci-index' ? 'oci' : 'docker';
  const children = DEFAULT_INDEX_PLATFORMS.map((platform) => ({
    platform,
    image: buildImage(childFormat, {
      ...content,
      seed: `${tag.seed}@${platform}`,
      platform: parsePlatform(platform),
    }),
  }));
  const index = buildIndex(tag.kind, children);
  return [
    ...children.map(({ image }) => ({
      repository,
      reference: image.digest,
      mediaType: image.mediaType,
      bytes: image.manifest,
      digest: image.digest,
      blobs: ownBlobs(image.blobs),
    })),
    {
      repository,
      reference: tag.tag,
      mediaType: index.mediaType,
      bytes: index.manifest,
      digest: index.digest,
      blobs: [],
    },
  ];
}
