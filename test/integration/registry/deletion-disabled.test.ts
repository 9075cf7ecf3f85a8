import { DeletionDisabledError, RegistryClient } from '../../../lambda/registry';
import { listTagsRaw, pushImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';
import { manifestRevisions } from './storage';

describe('Class: RegistryClient (distribution 2.8, storage.delete.enabled false)', () => {
  let registry: RegistryProcess;
  let client: RegistryClient;

  beforeAll(async () => {
    registry = await startRegistry({ deleteEnabled: false });
    client = new RegistryClient({ registry: registry.url });
  });

  afterAll(async () => {
    await client?.close();
    await registry?.stop();
  });

  describe('Method: deleteManifest', () => {
    it('fails with DeletionDisabledError naming storage.delete.enabled', async () => {
      // Prepare
      const pushed = await pushImage(registry.url, 'nodelete/app', 'v1');

      // Act
      const error = await client
        .deleteManifest('nodelete/app', pushed.digest)
        .catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(DeletionDisabledError);
      expect(error).toMatchObject({ statusCode: 405, code: 'UNSUPPORTED' });
      expect((error as Error).message).toContain('storage.delete.enabled');
      expect(await listTagsRaw(registry.url, 'nodelete/app')).toEqual(['v1']);
    });
  });

  describe('Method: untag', () => {
    it('fails with DeletionDisabledError before re-pointing the tag', async () => {
      // Prepare
      const pushed = await pushImage(registry.url, 'nodelete/shared', 'keep', { seed: 'same' });
      await pushImage(registry.url, 'nodelete/shared', 'drop', { seed: 'same' });

      // Act
      const error = await client.untag('nodelete/shared', 'drop').catch((caught: unknown) => caught);

      // Assess: both tags still point at the image, and no placeholder was pushed
      expect(error).toBeInstanceOf(DeletionDisabledError);
      expect(await client.resolve('nodelete/shared', 'drop')).toMatchObject({ digest: pushed.digest });
      expect(manifestRevisions(registry.storageDir, 'nodelete/shared')).toEqual([pushed.digest]);
      expect(client.stats['put-manifest']).toBe(0);
    });
  });
});
