import type { ServerResponse } from 'node:http';

import { sha256Digest } from '../../../lambda/domain';
import { DeletionDisabledError, RegistryError, UntagNotPermittedError } from '../../../lambda/registry';
import { json, localRegistries, registryError } from './local-server';

const DIGEST = sha256Digest('some manifest');
/** A HEAD answer: the manifest is there. */
const stillThere = (response: ServerResponse): void =>
  void response
    .writeHead(200, {
      'docker-content-digest': DIGEST,
      'content-type': 'application/vnd.oci.image.manifest.v1+json',
      'content-length': 500,
    })
    .end();

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

    it('reads a 404 while the manifest still resolves as an error naming the answer', async () => {
      // Prepare: the DELETE answers 404, the HEAD that checks it finds the manifest.
      const { server, client } = await registries.start((request, response) =>
        request.method === 'HEAD'
          ? stillThere(response)
          : json(response, 404, registryError('MANIFEST_UNKNOWN')),
      );

      // Act
      const error = await client.deleteManifest('apps/web', DIGEST).catch((caught: unknown) => caught);

      // Assess: an error, and not one that reads as "not found".
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as Error).message).toMatch(
        /HTTP 404 MANIFEST_UNKNOWN.*, yet the manifest still resolves/,
      );
      expect(error).toMatchObject({ statusCode: undefined, code: undefined });
      expect(server.requests.map((request) => request.method)).toEqual(['DELETE', 'HEAD']);
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

    it('checks a tag DELETE answered 404 with a HEAD: gone is done', async () => {
      // Prepare
      const { server, client } = await registries.start((_request, response) =>
        json(response, 404, registryError('MANIFEST_UNKNOWN')),
      );

      // Act
      const method = await client.untag('apps/web', 'old');

      // Assess
      expect(method).toBe('delete-tag');
      expect(server.requests.map((request) => request.method)).toEqual(['DELETE', 'HEAD']);
    });

    it('checks a tag DELETE answered 404 with a HEAD: a tag that still resolves is an error', async () => {
      // Prepare
      const { server, client } = await registries.start((request, response) =>
        request.method === 'HEAD'
          ? stillThere(response)
          : json(response, 404, registryError('MANIFEST_UNKNOWN')),
      );

      // Act
      const error = await client.untag('apps/web', 'old').catch((caught: unknown) => caught);

      // Assess: nothing pushed, nothing else deleted.
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as Error).message).toContain(`, yet the tag still resolves to ${DIGEST}`);
      expect(server.requests.map((request) => request.method)).toEqual(['DELETE', 'HEAD']);
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
