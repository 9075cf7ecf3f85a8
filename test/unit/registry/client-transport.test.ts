import type { Socket } from 'node:net';

import { MediaType, sha256Digest } from '../../../lambda/domain';
import { RegistryError, RegistryUnreachableError } from '../../../lambda/registry';
import { freePort } from '../../../tools/ports';
import { json, localRegistries, registryError } from './local-server';

const MANIFEST = Buffer.from(
  JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, layers: [] }),
);
const MANIFEST_DIGEST = sha256Digest(MANIFEST);
const FAST_RETRY = { maxRetries: 4, minDelayMs: 1, maxDelayMs: 5 };

function manifest(response: import('node:http').ServerResponse, method?: string): void {
  response.writeHead(200, {
    'content-type': MediaType.OciManifest,
    'docker-content-digest': MANIFEST_DIGEST,
    'content-length': MANIFEST.length,
  });
  response.end(method === 'HEAD' ? undefined : MANIFEST);
}

describe('Class: RegistryClient', () => {
  const registries = localRegistries();

  describe('Method: resolve (retries)', () => {
    it('retries 503, 502 and 429 and counts the retries', async () => {
      // Prepare
      const script = [503, 502, 429];
      const seen: Array<number | undefined> = [];
      const { client } = await registries.start(
        (request, response) => {
          const status = script.shift();
          if (status)
            return json(response, status, registryError(status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE'));
          manifest(response, request.method);
        },
        { retry: FAST_RETRY, onRequest: (info) => seen.push(info.status) },
      );

      // Act
      const resolved = await client.resolve('apps/web', 'v1');

      // Assess
      expect(resolved?.digest).toBe(MANIFEST_DIGEST);
      expect(client.stats.retries).toBe(3);
      expect(client.stats['head-manifest']).toBe(4);
      expect(seen).toEqual([503, 502, 429, 200]);
    });

    it('waits as long as Retry-After asks', async () => {
      // Prepare
      let first = true;
      const { client } = await registries.start(
        (request, response) => {
          if (first) {
            first = false;
            return json(response, 429, registryError('TOOMANYREQUESTS'), { 'retry-after': '1' });
          }
          manifest(response, request.method);
        },
        { retry: FAST_RETRY },
      );

      // Act
      const started = Date.now();
      await client.resolve('apps/web', 'v1');

      // Assess
      expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    });

    it('retries a reset connection and a truncated body', async () => {
      // Prepare
      const faults = ['reset', 'truncate'];
      const { client } = await registries.start(
        (request, response) => {
          const fault = faults.shift();
          if (fault === 'reset') return (request.socket as Socket).destroy();
          if (fault === 'truncate') {
            response.writeHead(200, {
              'content-type': MediaType.OciManifest,
              'content-length': MANIFEST.length,
            });
            response.write(MANIFEST.subarray(0, 10));
            return setTimeout(() => request.socket.destroy(), 5);
          }
          manifest(response, request.method);
        },
        { retry: FAST_RETRY },
      );

      // Act
      const content = await client.getManifest('apps/web', 'v1');

      // Assess
      expect(content.digest).toBe(MANIFEST_DIGEST);
      expect(client.stats.retries).toBe(2);
    });

    it('gives up after maxRetries with a temporary RegistryError', async () => {
      // Prepare
      const { server, client } = await registries.start(
        (_request, response) => json(response, 503, registryError('UNAVAILABLE', 'busy')),
        { retry: { ...FAST_RETRY, maxRetries: 2 } },
      );

      // Act
      const error = await client.resolve('apps/web', 'v1').catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as RegistryError).isTemporary()).toBe(true);
      expect(server.requests).toHaveLength(3);
    });

    it('does not retry a 500 answer to a DELETE (it may have happened)', async () => {
      // Prepare
      const { server, client } = await registries.start(
        (_request, response) => json(response, 500, registryError('UNKNOWN')),
        { retry: FAST_RETRY },
      );

      // Act & Assess
      await expect(client.deleteManifest('apps/web', MANIFEST_DIGEST)).rejects.toMatchObject({
        statusCode: 500,
      });
      expect(server.requests).toHaveLength(1);
    });
  });

  describe('Method: ping', () => {
    it('names the registry it cannot reach', async () => {
      // Prepare: a port nobody listens on
      const port = await freePort();
      const client = registries.connect({ registry: `http://127.0.0.1:${port}`, retry: FAST_RETRY });

      // Act
      const error = await client.ping().catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(RegistryUnreachableError);
      expect((error as Error).message).toMatch(
        new RegExp(`^cannot reach the registry at http://127\\.0\\.0\\.1:${port}: `),
      );
      expect(client.stats.ping).toBe(3);
    });

    it('times out a registry that never answers', async () => {
      // Prepare
      const { client } = await registries.start(() => undefined, {
        timeoutMs: 200,
        retry: { maxRetries: 0 },
      });

      // Act & Assess
      await expect(client.ping()).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    });
  });

  describe('Option: concurrency', () => {
    it('keeps at most `concurrency` requests in flight', async () => {
      // Prepare
      let inFlight = 0;
      let peak = 0;
      const { client } = await registries.start(
        (request, response) => {
          inFlight += 1;
          peak = Math.max(peak, inFlight);
          setTimeout(() => {
            inFlight -= 1;
            manifest(response, request.method);
          }, 20);
        },
        { concurrency: 3 },
      );

      // Act
      await Promise.all(Array.from({ length: 12 }, (_, index) => client.resolve('apps/web', `t${index}`)));

      // Assess
      expect(peak).toBe(3);
      expect(client.stats['head-manifest']).toBe(12);
    });
  });
});
