import { createHash } from 'node:crypto';

import { InvalidReferenceError, MANIFEST_ACCEPT, MediaType, sha256Digest } from '../../../lambda/domain';
import { DigestMismatchError, ResponseTooLargeError } from '../../../lambda/registry';
import { MAX_MANIFEST_BYTES } from '../../../lambda/registry/manifests';
import { json, localRegistries, registryError, type Handler } from './local-server';

const MANIFEST = Buffer.from(
  JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: {}, layers: [] }),
);
const MANIFEST_DIGEST = sha256Digest(MANIFEST);

/** A registry serving MANIFEST at `apps/web:v1` with the given headers (Content-Type always set). */
function manifestHandler(headers: (method: string) => Record<string, string>): Handler {
  return (request, response) => {
    if (!request.url?.startsWith('/v2/apps/web/manifests/'))
      return json(response, 404, registryError('NAME_UNKNOWN'));
    if (!request.url.endsWith('/v1') && !request.url.endsWith(MANIFEST_DIGEST)) {
      return json(response, 404, registryError('MANIFEST_UNKNOWN'));
    }
    response.writeHead(200, {
      'content-type': MediaType.OciManifest,
      'content-length': MANIFEST.length,
      ...headers(request.method ?? ''),
    });
    response.end(request.method === 'HEAD' ? undefined : MANIFEST);
  };
}

describe('Class: RegistryClient', () => {
  const registries = localRegistries();

  describe('Method: resolve', () => {
    it('takes the digest from Docker-Content-Digest with one HEAD carrying the full Accept list and User-Agent', async () => {
      // Prepare
      const { server, client } = await registries.start(
        manifestHandler(() => ({ 'docker-content-digest': MANIFEST_DIGEST })),
      );

      // Act
      const resolved = await client.resolve('apps/web', 'v1');

      // Assess
      expect(resolved).toEqual({
        digest: MANIFEST_DIGEST,
        mediaType: MediaType.OciManifest,
        size: MANIFEST.length,
      });
      expect(server.requests.map((request) => request.method)).toEqual(['HEAD']);
      expect(server.requests[0]?.headers.accept).toBe(MANIFEST_ACCEPT.join(', '));
      expect(server.requests[0]?.headers['user-agent']).toMatch(/^regsweep\/\d+\.\d+\.\d+/);
      expect(client.stats['head-manifest']).toBe(1);
    });

    it('falls back to a digest Etag (quotes stripped) when the digest header is missing', async () => {
      // Prepare
      const { server, client } = await registries.start(
        manifestHandler(() => ({ etag: `"${MANIFEST_DIGEST}"` })),
      );

      // Act
      const resolved = await client.resolve('apps/web', 'v1');

      // Assess
      expect(resolved?.digest).toBe(MANIFEST_DIGEST);
      expect(server.requests.map((request) => request.method)).toEqual(['HEAD']);
    });

    it('hashes the body of a GET when neither header carries a digest', async () => {
      // Prepare: a weak Etag is not a content digest
      const { server, client } = await registries.start(manifestHandler(() => ({ etag: 'W/"abc"' })));

      // Act
      const resolved = await client.resolve('apps/web', 'v1');

      // Assess
      expect(resolved).toEqual({
        digest: MANIFEST_DIGEST,
        mediaType: MediaType.OciManifest,
        size: MANIFEST.length,
      });
      expect(server.requests.map((request) => request.method)).toEqual(['HEAD', 'GET']);
    });

    it('returns null for an unknown tag or repository', async () => {
      // Prepare
      const { client } = await registries.start(manifestHandler(() => ({})));

      // Act & Assess
      await expect(client.resolve('apps/web', 'v2')).resolves.toBeNull();
      await expect(client.resolve('apps/other', 'v1')).resolves.toBeNull();
    });

    it('refuses an invalid repository or reference before sending anything', async () => {
      // Prepare
      const { server, client } = await registries.start(manifestHandler(() => ({})));

      // Act & Assess
      await expect(client.resolve('Apps/Web', 'v1')).rejects.toThrow(InvalidReferenceError);
      await expect(client.resolve('apps/web', '../../_catalog')).rejects.toThrow(InvalidReferenceError);
      await expect(client.resolve('apps/web', 'sha256:abc')).rejects.toThrow(InvalidReferenceError);
      expect(server.requests).toHaveLength(0);
    });
  });

  describe('Method: getManifest', () => {
    it('fails with DigestMismatchError when the announced digest does not match the body', async () => {
      // Prepare
      const wrong = sha256Digest('something else');
      const { client } = await registries.start(manifestHandler(() => ({ 'docker-content-digest': wrong })));

      // Act
      const read = client.getManifest('apps/web', 'v1');

      // Assess
      await expect(read).rejects.toThrow(DigestMismatchError);
      await expect(client.getManifest('apps/web', 'v1')).rejects.toThrow(
        `the registry says ${wrong} but the content hashes to ${MANIFEST_DIGEST}`,
      );
    });

    it('returns the exact bytes, the parsed JSON and the verified digest', async () => {
      // Prepare
      const { client } = await registries.start(manifestHandler(() => ({})));

      // Act
      const content = await client.getManifest('apps/web', MANIFEST_DIGEST);

      // Assess
      expect(content.digest).toBe(MANIFEST_DIGEST);
      expect(content.bytes.equals(MANIFEST)).toBe(true);
      expect(content.json.mediaType).toBe(MediaType.OciManifest);
      expect(`sha256:${createHash('sha256').update(content.bytes).digest('hex')}`).toBe(MANIFEST_DIGEST);
    });

    it('abandons an endless manifest at the cap instead of buffering it', async () => {
      // Prepare: a chunked body that never ends; only aborting can finish this test
      let sentBytes = 0;
      let hungUp!: () => void;
      const clientHungUp = new Promise<void>((resolve) => (hungUp = resolve));
      const { client } = await registries.start(
        (_request, response) => {
          response.writeHead(200, { 'content-type': MediaType.OciManifest });
          const chunk = Buffer.alloc(64 * 1024, 0x20);
          const pump = (): void => {
            while (!response.destroyed && response.write(chunk)) sentBytes += chunk.length;
            if (!response.destroyed) response.once('drain', pump);
          };
          response.on('close', () => hungUp());
          pump();
        },
        { retry: { maxRetries: 0 } },
      );

      // Act
      const read = client.getManifest('apps/web', 'v1');

      // Assess
      await expect(read).rejects.toThrow(ResponseTooLargeError);
      await expect(read).rejects.toThrow(`larger than the ${MAX_MANIFEST_BYTES}-byte limit`);
      // The hang-up is awaited (a client that never hangs up fails at jest's timeout), not slept for.
      await clientHungUp;
      expect(sentBytes).toBeLessThan(4 * MAX_MANIFEST_BYTES);
    });

    it('refuses a declared Content-Length above the cap without reading the body', async () => {
      // Prepare
      const { client } = await registries.start(
        (_request, response) => {
          response.writeHead(200, {
            'content-type': MediaType.OciManifest,
            'content-length': MAX_MANIFEST_BYTES + 1,
          });
          response.write('{');
        },
        { retry: { maxRetries: 0 } },
      );

      // Act & Assess
      await expect(client.getManifest('apps/web', 'v1')).rejects.toThrow(ResponseTooLargeError);
    });
  });
});
