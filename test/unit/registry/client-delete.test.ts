import { sha256Digest } from '../../../lambda/domain';
import { DeletionDisabledError, UntagNotPermittedError } from '../../../lambda/registry';
import { json, localRegistries, registryError } from './local-server';

const DIGEST = sha256Digest('some manifest');

describe('Class: RegistryClient', () => {
  const registries = localRegistries();

  describe('Method: deleteManifest', () => {
    it.each([
      [202, 'deleted'],
      [404, 'already-gone'],
    ] as const)('reads %s as %s', async (status, expected) => {
      // Prepare
      const { server, client } = await registries.start((_request, response) =>
        status === 404
          ? json(response, 404, registryError('MANIFEST_UNKNOWN'))
          : response.writeHead(status).end(),
      );

      // Act
      const result = await client.deleteManifest('apps/web', DIGEST);

      // Assess
      expect(result).toBe(expected);
      expect(server.requests[0]).toMatchObject({ method: 'DELETE', url: `/v2/apps/web/manifests/${DIGEST}` });
    });

    it('explains a 405 UNSUPPORTED with the registry setting to change', async () => {
      // Prepare
      const { server, client } = await registries.start((_request, response) =>
        json(response, 405, registryError('UNSUPPORTED', 'The operation is unsupported.')),
      );

      // Act
      const error = await client.deleteManifest('apps/web', DIGEST).catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(DeletionDisabledError);
      expect((error as Error).message).toContain(`the registry at ${server.url} refuses to delete manifests`);
      expect((error as Error).message).toContain('storage.delete.enabled');
    });
  });

  describe('Method: untag', () => {
    it('uses a tag-only DELETE where the registry supports it', async () => {
      // Prepare
      const { server, client } = await registries.start((_request, response) =>
        response.writeHead(202).end(),
      );

      // Act
      const method = await client.untag('apps/web', 'old');

      // Assess
      expect(method).toBe('delete-tag');
      expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
        'DELETE /v2/apps/web/manifests/old',
      ]);
    });

    it('pushes nothing when deletion is disabled altogether', async () => {
      // Prepare
      const { server, client } = await registries.start((_request, response) =>
        json(response, 405, registryError('UNSUPPORTED')),
      );

      // Act
      const error = await client.untag('apps/web', 'old').catch((caught: unknown) => caught);

      // Assess: the tag delete, then a delete of a digest that cannot exist, and nothing else
      expect(error).toBeInstanceOf(DeletionDisabledError);
      expect(server.requests.map((request) => request.method)).toEqual(['DELETE', 'DELETE']);
      expect(server.requests[1]?.url).toMatch(/^\/v2\/apps\/web\/manifests\/sha256:[0-9a-f]{64}$/);
    });

    it('reports a refused push as UntagNotPermittedError', async () => {
      // Prepare: distribution 2.x refuses tag deletes; this account may not push
      const { server, client } = await registries.start((request, response) => {
        if (request.method === 'DELETE') return json(response, 400, registryError('DIGEST_INVALID'));
        if (request.method === 'HEAD') return response.writeHead(200, { 'content-length': 2 }).end();
        json(response, 403, registryError('DENIED', 'requested access to the resource is denied'));
      });

      // Act
      const error = await client.untag('apps/web', 'old').catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(UntagNotPermittedError);
      expect(error).toMatchObject({ statusCode: 403, code: 'DENIED' });
      expect(server.requests.map((request) => request.method)).toEqual(['DELETE', 'HEAD', 'PUT']);
    });
  });
});
