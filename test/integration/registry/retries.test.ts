import { RegistryClient } from '../../../lambda/registry';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy';
import { listTagsRaw, pushImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

const FAST_RETRY = { maxRetries: 4, minDelayMs: 5, maxDelayMs: 50 };

describe('Class: RegistryClient (distribution 2.8 behind a fault proxy)', () => {
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

  describe('Method: getManifest', () => {
    it('gets the right manifest through 503, 429 with Retry-After, a reset and a truncated body', async () => {
      // Prepare
      const pushed = await pushImage(registry.url, 'faults/app', 'v1', { kind: 'oci-index' });
      proxy.setPlan({ script: ['503', '429', 'reset', 'truncate'], retryAfterSeconds: 1 });
      const client = new RegistryClient({ registry: proxy.url, retry: FAST_RETRY });

      // Act
      const started = Date.now();
      const content = await client.getManifest('faults/app', 'v1');

      // Assess
      expect(content.digest).toBe(pushed.digest);
      expect(client.stats.retries).toBe(4);
      expect(client.stats['get-manifest']).toBe(5);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
      expect(proxy.history.slice(-5).map((record) => record.fault)).toEqual([
        '503',
        '429',
        'reset',
        'truncate',
        'ok',
      ]);
      await client.close();
    });
  });

  describe('Method: resolve', () => {
    it('resolves through temporary failures', async () => {
      // Prepare
      const pushed = await pushImage(registry.url, 'faults/resolve', 'v1');
      proxy.setPlan({ script: ['503', 'reset', '503'] });
      const client = new RegistryClient({ registry: proxy.url, retry: FAST_RETRY });

      // Act
      const resolved = await client.resolve('faults/resolve', 'v1');

      // Assess
      expect(resolved?.digest).toBe(pushed.digest);
      expect(client.stats.retries).toBe(3);
      await client.close();
    });
  });

  describe('Method: deleteManifest', () => {
    it('treats the 404 after a reset that hid a successful delete as already gone', async () => {
      // Prepare: the proxy forwards the DELETE, then drops the connection before answering
      const pushed = await pushImage(registry.url, 'faults/delete', 'v1');
      proxy.setPlan({ script: ['reset'] });
      const client = new RegistryClient({ registry: proxy.url, retry: FAST_RETRY });

      // Act
      const result = await client.deleteManifest('faults/delete', pushed.digest);

      // Assess
      expect(result).toBe('already-gone');
      expect(client.stats.retries).toBe(1);
      expect(await listTagsRaw(registry.url, 'faults/delete')).toEqual([]);
      await client.close();
    });
  });

  describe('Method: untag', () => {
    it('untags through faults on every step', async () => {
      // Prepare
      const pushed = await pushImage(registry.url, 'faults/untag', 'keep', { seed: 'u' });
      await pushImage(registry.url, 'faults/untag', 'drop', { seed: 'u' });
      proxy.setPlan({ rate503: 0.3, resetRate: 0.1, seed: 7 });
      const client = new RegistryClient({ registry: proxy.url, retry: { ...FAST_RETRY, maxRetries: 8 } });

      // Act
      const method = await client.untag('faults/untag', 'drop');

      // Assess
      proxy.setPlan({});
      expect(method).toBe('placeholder');
      expect(await listTagsRaw(registry.url, 'faults/untag')).toEqual(['keep']);
      expect(await client.resolve('faults/untag', 'keep')).toMatchObject({ digest: pushed.digest });
      expect(client.stats.retries).toBeGreaterThan(0);
      await client.close();
    });
  });
});
