import { MediaType, type Digest } from '../../../lambda/domain';
import { RegistryClient } from '../../../lambda/registry';
import { listTagsRaw, pushImage, putManifestBytes, type ImageKind } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

const KINDS: ReadonlyArray<[ImageKind, string]> = [
  ['docker', MediaType.DockerManifest],
  ['oci', MediaType.OciManifest],
  ['oci-index', MediaType.OciIndex],
  ['docker-list', MediaType.DockerManifestList],
];

describe('Class: RegistryClient (distribution 2.8)', () => {
  let registry: RegistryProcess;
  let client: RegistryClient;

  beforeAll(async () => {
    registry = await startRegistry();
    client = new RegistryClient({ registry: registry.url });
  });

  afterAll(async () => {
    await client?.close();
    await registry?.stop();
  });

  describe('Method: resolve / deleteManifest', () => {
    it.each(KINDS)(
      'resolves a %s tag to the pushed digest, deletes it, and a second delete is already-gone',
      async (kind, mediaType) => {
        // Prepare
        const repository = `formats/${kind}`;
        const pushed = await pushImage(registry.url, repository, 'v1', { kind });
        await pushImage(registry.url, repository, 'other', { kind, seed: `${kind}-other` });

        // Act
        const resolved = await client.resolve(repository, 'v1');
        const deleted = await client.deleteManifest(repository, pushed.digest);
        const again = await client.deleteManifest(repository, pushed.digest);

        // Assess
        expect(resolved).toEqual({ digest: pushed.digest, mediaType, size: pushed.bytes });
        expect(deleted).toBe('deleted');
        expect(again).toBe('already-gone');
        expect(await listTagsRaw(registry.url, repository)).toEqual(['other']);
        expect(await client.resolve(repository, 'v1')).toBeNull();
      },
    );

    it('resolves a digest reference and answers null for unknown tags and repositories', async () => {
      // Prepare
      const pushed = await pushImage(registry.url, 'formats/by-digest', 'v1', { kind: 'oci' });

      // Act & Assess
      await expect(client.resolve('formats/by-digest', pushed.digest)).resolves.toMatchObject({
        digest: pushed.digest,
      });
      await expect(client.resolve('formats/by-digest', 'nope')).resolves.toBeNull();
      await expect(client.resolve('formats/never-pushed', 'v1')).resolves.toBeNull();
    });
  });

  describe('Method: imageCreated', () => {
    it.each(KINDS)('reads the config created of a %s image', async (kind) => {
      // Prepare
      const created = '2026-06-01T12:00:00.000Z';
      await pushImage(registry.url, 'created/config', kind, { kind, created });
      const resolved = await client.resolve('created/config', kind);

      // Act
      const date = await client.imageCreated('created/config', resolved!);

      // Assess
      expect(date?.toISOString()).toBe(created);
    });

    it('falls back to the org.opencontainers.image.created label when the config has no created', async () => {
      // Prepare
      const labels = { 'org.opencontainers.image.created': '2025-02-03T04:05:06Z' };
      await pushImage(registry.url, 'created/label', 'v1', { kind: 'docker', created: null, labels });
      const resolved = await client.resolve('created/label', 'v1');

      // Act
      const date = await client.imageCreated('created/label', resolved!);

      // Assess
      expect(date?.toISOString()).toBe('2025-02-03T04:05:06.000Z');
    });

    it('treats the 1970 of reproducible builds as unknown', async () => {
      // Prepare
      await pushImage(registry.url, 'created/epoch', 'v1', { kind: 'oci', created: '1970-01-01T00:00:00Z' });
      const resolved = await client.resolve('created/epoch', 'v1');

      // Act
      const date = await client.imageCreated('created/epoch', resolved!);

      // Assess
      expect(date).toBeUndefined();
    });

    it('gives an index the newest of its children', async () => {
      // Prepare: children built at different times, gathered into one OCI index
      const repository = 'created/index';
      const dates = ['2024-01-01T00:00:00.000Z', '2026-09-09T09:09:09.000Z', '1970-01-01T00:00:00.000Z'];
      const children: Array<{ digest: Digest; bytes: number; platform: string }> = [];
      for (const [position, created] of dates.entries()) {
        const child = await pushImage(registry.url, repository, `child-${position}`, {
          kind: 'oci',
          created,
        });
        children.push({
          digest: child.digest,
          bytes: child.bytes,
          platform: ['amd64', 'arm64', 's390x'][position]!,
        });
      }
      const index = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.OciIndex,
          manifests: children.map((child) => ({
            mediaType: MediaType.OciManifest,
            digest: child.digest,
            size: child.bytes,
            platform: { os: 'linux', architecture: child.platform },
          })),
        }),
      );
      const digest = await putManifestBytes(registry.url, repository, 'multi', MediaType.OciIndex, index);

      // Act
      const date = await client.imageCreated(repository, { digest, mediaType: MediaType.OciIndex });

      // Assess
      expect(date?.toISOString()).toBe('2026-09-09T09:09:09.000Z');
    });
  });
});
