import { RegistryClient, type RequestKind } from '../../../lambda/registry';
import { listTagsRaw, pushImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';
import { manifestRevisions } from './storage';

/** The non-zero request counts of a client, by kind. */
function cost(client: RegistryClient): Partial<Record<RequestKind | 'retries', number>> {
  return Object.fromEntries(Object.entries(client.stats).filter(([, count]) => count > 0));
}

describe('Class: RegistryClient (distribution 2.8)', () => {
  let registry: RegistryProcess;

  beforeAll(async () => {
    registry = await startRegistry();
  });

  afterAll(async () => {
    await registry?.stop();
  });

  describe('Method: untag', () => {
    it('removes only the one tag of a shared digest, through a placeholder that is deleted too', async () => {
      // Prepare: two tags on one digest (same seed, same content)
      const repository = 'untag/shared';
      const kept = await pushImage(registry.url, repository, 'keep', { kind: 'oci', seed: 'shared' });
      const removed = await pushImage(registry.url, repository, 'remove', { kind: 'oci', seed: 'shared' });
      expect(removed.digest).toBe(kept.digest);
      const revisionsBefore = manifestRevisions(registry.storageDir, repository);
      const client = new RegistryClient({ registry: registry.url });

      // Act
      const method = await client.untag(repository, 'remove');

      // Assess
      expect(method).toBe('placeholder');
      expect(await listTagsRaw(registry.url, repository)).toEqual(['keep']);
      expect(await client.resolve(repository, 'keep')).toMatchObject({ digest: kept.digest });
      expect(await client.resolve(repository, 'remove')).toBeNull();
      expect(manifestRevisions(registry.storageDir, repository)).toEqual(revisionsBefore);
      expect(revisionsBefore).toEqual([kept.digest]);
      await client.close();
    });

    it('works for an index and leaves its children to the other tag', async () => {
      // Prepare
      const repository = 'untag/index';
      const kept = await pushImage(registry.url, repository, 'keep', { kind: 'oci-index', seed: 'idx' });
      await pushImage(registry.url, repository, 'remove', { kind: 'oci-index', seed: 'idx' });
      const client = new RegistryClient({ registry: registry.url });

      // Act
      await client.untag(repository, 'remove');

      // Assess
      expect(await listTagsRaw(registry.url, repository)).toEqual(['keep']);
      expect(
        await client.imageCreated(repository, (await client.resolve(repository, 'keep'))!),
      ).toBeInstanceOf(Date);
      expect(manifestRevisions(registry.storageDir, repository)).toEqual(
        [kept.digest, ...kept.children!].sort(),
      );
      await client.close();
    });

    it('costs one HEAD to resolve and a known number of requests to untag', async () => {
      // Prepare
      const repository = 'untag/cost';
      await pushImage(registry.url, repository, 'a', { kind: 'docker', seed: 'cost' });
      await pushImage(registry.url, repository, 'b', { kind: 'docker', seed: 'cost' });
      const resolver = new RegistryClient({ registry: registry.url });
      const untagger = new RegistryClient({ registry: registry.url });

      // Act
      await resolver.resolve(repository, 'a');
      await untagger.untag(repository, 'b');

      // Assess: DELETE tag (400), HEAD empty blob, POST+PUT upload, PUT placeholder, DELETE placeholder
      expect(cost(resolver)).toEqual({ 'head-manifest': 1 });
      expect(cost(untagger)).toEqual({
        'delete-manifest': 2,
        'head-blob': 1,
        'upload-blob': 2,
        'put-manifest': 1,
      });
      // The empty blob is in the repository now: a second untag skips the upload.
      await pushImage(registry.url, repository, 'c', { kind: 'docker', seed: 'cost' });
      await untagger.untag(repository, 'c');
      expect(cost(untagger)).toEqual({
        'delete-manifest': 4,
        'head-blob': 2,
        'upload-blob': 2,
        'put-manifest': 2,
      });
      expect(await listTagsRaw(registry.url, repository)).toEqual(['a']);
      await resolver.close();
      await untagger.close();
    });
  });
});
