import { MediaType, sha256Digest } from '../../../lambda/domain';
import {
  deleteManifestRaw,
  headDigestRaw,
  listTagsRaw,
  pushImage,
  retag,
  type ImageKind,
  type PushedImage,
} from '../../../tools/pusher';
import { rawRequest } from '../../../tools/raw-http';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

describe('Function: pushImage', () => {
  let registry: RegistryProcess;

  beforeAll(async () => {
    registry = await startRegistry();
  });

  afterAll(async () => {
    await registry.stop();
  });

  it.each<[ImageKind, string]>([
    ['docker', MediaType.DockerManifest],
    ['oci', MediaType.OciManifest],
    ['oci-index', MediaType.OciIndex],
    ['docker-list', MediaType.DockerManifestList],
  ])(
    'pushes a %s image whose digest a raw HEAD with the full Accept list returns',
    async (kind, mediaType) => {
      // Act
      const pushed = await pushImage(registry.url, `kinds/${kind}`, 'v1', { kind });

      // Assess
      expect(pushed.mediaType).toBe(mediaType);
      expect(await headDigestRaw(registry.url, `kinds/${kind}`, 'v1')).toBe(pushed.digest);
      const stored = await rawRequest(`${registry.url}/v2/kinds/${kind}/manifests/${pushed.digest}`, {
        headers: { accept: mediaType },
      });
      expect(stored.headers['content-type']).toBe(mediaType);
      expect(sha256Digest(stored.body)).toBe(pushed.digest);
      expect(stored.body.length).toBe(pushed.bytes);
    },
  );

  it('pushes an index whose children exist and carry the asked platforms', async () => {
    // Act
    const pushed = await pushImage(registry.url, 'multi/app', 'v1', {
      kind: 'oci-index',
      platforms: ['linux/amd64', 'linux/arm/v7', 'windows/amd64'],
    });

    // Assess
    expect(pushed.children).toHaveLength(3);
    for (const child of pushed.children ?? []) {
      expect(await headDigestRaw(registry.url, 'multi/app', child)).toBe(child);
    }
    const index = await rawRequest(`${registry.url}/v2/multi/app/manifests/v1`, {
      headers: { accept: MediaType.OciIndex },
    });
    const platforms = JSON.parse(index.body.toString()).manifests.map(
      (entry: { platform: { os: string; architecture: string; variant?: string } }) => entry.platform,
    );
    expect(platforms).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
      { os: 'windows', architecture: 'amd64' },
    ]);
  });

  it('gives two tags with the same seed one digest, and different seeds different digests', async () => {
    // Act
    const [first, second, other] = await Promise.all([
      pushImage(registry.url, 'shared/app', 'a', { seed: 'same' }),
      pushImage(registry.url, 'shared/app', 'b', { seed: 'same' }),
      pushImage(registry.url, 'shared/app', 'c', { seed: 'other' }),
    ]);

    // Assess
    expect(second.digest).toBe(first.digest);
    expect(other.digest).not.toBe(first.digest);
    expect(await headDigestRaw(registry.url, 'shared/app', 'b')).toBe(first.digest);
  });

  it('writes created, labels and annotations where a client reads them', async () => {
    // Prepare
    const created = '2024-03-01T12:00:00Z';
    const labels = { 'org.opencontainers.image.created': '2024-03-02T00:00:00Z' };
    const annotations = { 'org.opencontainers.image.revision': 'abc123' };

    // Act
    const pushed = await pushImage(registry.url, 'meta/app', 'v1', {
      kind: 'oci',
      created,
      labels,
      annotations,
    });
    const undated = await pushImage(registry.url, 'meta/app', 'v2', { kind: 'oci', created: null });

    // Assess
    const config = async (digest: string): Promise<Record<string, unknown>> => {
      const manifest = await rawRequest(`${registry.url}/v2/meta/app/manifests/${digest}`, {
        headers: { accept: MediaType.OciManifest },
      });
      const parsed = JSON.parse(manifest.body.toString());
      const blob = await rawRequest(`${registry.url}/v2/meta/app/blobs/${parsed.config.digest}`);
      return { manifest: parsed, config: JSON.parse(blob.body.toString()) };
    };
    const dated = await config(pushed.digest);
    expect(dated).toMatchObject({
      manifest: { annotations },
      config: { created, config: { Labels: labels } },
    });
    const withoutDate = await config(undated.digest);
    expect(withoutDate.config).not.toHaveProperty('created');
  });

  it('uploads a layer of the asked size once and shares it between images', async () => {
    // Act
    await pushImage(registry.url, 'layers/app', 'a', { kind: 'oci', layerBytes: 100_000 });
    const second = await pushImage(registry.url, 'layers/app', 'b', { kind: 'oci', layerBytes: 100_000 });

    // Assess
    const manifest = await rawRequest(`${registry.url}/v2/layers/app/manifests/${second.digest}`, {
      headers: { accept: MediaType.OciManifest },
    });
    const layer = JSON.parse(manifest.body.toString()).layers[0];
    expect(layer.size).toBe(100_000);
    const blob = await rawRequest(`${registry.url}/v2/layers/app/blobs/${layer.digest}`);
    expect(blob.body.length).toBe(100_000);
  });
});

describe('Function: pushImage after garbage-collect', () => {
  let registry: RegistryProcess;

  beforeAll(async () => {
    registry = await startRegistry();
  });

  afterAll(async () => {
    await registry.stop();
  });

  it('uploads again a layer it had seen once garbage-collect removed it', async () => {
    // Prepare
    const first = await pushImage(registry.url, 'gc/app', 'v1', { layerBytes: 777 });
    expect(await deleteManifestRaw(registry.url, 'gc/app', first.digest)).toBe(202);
    await registry.garbageCollect();

    // Act
    const second = await pushImage(registry.url, 'gc/app', 'v2', { layerBytes: 777 });

    // Assess
    expect(await headDigestRaw(registry.url, 'gc/app', 'v2')).toBe(second.digest);
  });
});

describe('Function: retag', () => {
  let registry: RegistryProcess;
  let pushed: PushedImage;

  beforeAll(async () => {
    registry = await startRegistry();
    pushed = await pushImage(registry.url, 'team/app', 'v1', { kind: 'oci-index' });
  });

  afterAll(async () => {
    await registry.stop();
  });

  it('points a new tag at an existing digest', async () => {
    // Act
    await retag(registry.url, 'team/app', 'stable', pushed.digest);

    // Assess
    expect(await headDigestRaw(registry.url, 'team/app', 'stable')).toBe(pushed.digest);
  });
});

describe('Function: listTagsRaw', () => {
  let registry: RegistryProcess;

  beforeAll(async () => {
    registry = await startRegistry();
  });

  afterAll(async () => {
    await registry.stop();
  });

  // distribution 2.8 ignores `n` on tags/list: one unsorted page, no Link (its catalog does page;
  // listCatalogRaw's test covers Link following, which both share).
  it('lists every tag, in one page on distribution 2.8', async () => {
    // Prepare
    const tags = Array.from({ length: 7 }, (_, index) => `t${index}`);
    for (const tag of tags) await pushImage(registry.url, 'paged/app', tag, { seed: 'one' });

    // Act
    const listed = await listTagsRaw(registry.url, 'paged/app', undefined, 3);

    // Assess
    const firstPage = await rawRequest(`${registry.url}/v2/paged/app/tags/list?n=3`);
    expect(JSON.parse(firstPage.body.toString()).tags).toHaveLength(tags.length);
    expect(firstPage.headers.link).toBeUndefined();
    expect(listed.sort()).toEqual(tags);
  });

  it('answers [] for an unknown repository', async () => {
    // Act & Assess
    expect(await listTagsRaw(registry.url, 'no/such')).toEqual([]);
  });

  it('answers undefined from headDigestRaw for an unknown tag', async () => {
    // Act & Assess
    expect(await headDigestRaw(registry.url, 'paged/app', 'missing')).toBeUndefined();
  });
});
