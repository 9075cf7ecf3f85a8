import { RegistryClient } from '../../../lambda/registry';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy';
import { headDigestRaw, listTagsRaw, pushImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';
import { manifestRevisions } from '../registry/storage';

const FAST_RETRY = { maxRetries: 4, minDelayMs: 5, maxDelayMs: 50 };

/**
 * The registry did the work, the client never heard the answer (the proxy forwards, then drops
 * the connection): each step of an untag must survive that, because the retry meets a registry
 * that already changed.
 */
describe('Class: RegistryClient untag when an answer is lost after the registry acted', () => {
  let registry: RegistryProcess;
  let proxy: FaultProxy;

  beforeAll(async () => {
    registry = await startRegistry();
    proxy = await startFaultProxy(registry.url);
  });

  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  it.each<[string, (request: { method: string; path: string }) => boolean]>([
    ['the upload start (POST)', ({ method, path }) => method === 'POST' && path.includes('/blobs/uploads/')],
    ['the upload finish (PUT)', ({ method, path }) => method === 'PUT' && path.includes('/blobs/uploads/')],
    ['the placeholder push', ({ method, path }) => method === 'PUT' && path.includes('/manifests/')],
    [
      'the placeholder delete',
      ({ method, path }) => method === 'DELETE' && path.includes('/manifests/sha256:'),
    ],
  ])('untags when the answer to %s is lost', async (_step, match) => {
    // Prepare: a fresh repository (so the empty blob must be uploaded), two tags on one digest.
    const repository = `lost/${Math.random().toString(36).slice(2, 10)}`;
    const kept = await pushImage(registry.url, repository, 'keep', { seed: repository, created: null });
    await pushImage(registry.url, repository, 'drop', { seed: repository, created: null });
    const revisions = manifestRevisions(registry.storageDir, repository);
    proxy.setPlan({ script: ['reset'], match });
    const client = new RegistryClient({ registry: proxy.url, retry: FAST_RETRY });

    try {
      // Act
      const method = await client.untag(repository, 'drop');

      // Assess: the reset happened, the tag is gone, the other tag and its digest stay, and the
      // placeholder is not left behind.
      const resets = proxy.history.filter(
        (record) => record.fault === 'reset' && record.path.startsWith(`/v2/${repository}/`),
      );
      expect(resets).toHaveLength(1);
      expect(method).toBe('placeholder');
      expect(await listTagsRaw(registry.url, repository)).toEqual(['keep']);
      expect(await headDigestRaw(registry.url, repository, 'keep')).toBe(kept.digest);
      expect(manifestRevisions(registry.storageDir, repository)).toEqual(revisions);
    } finally {
      proxy.setPlan({});
      await client.close();
    }
  });
});
