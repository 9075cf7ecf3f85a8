import { ForeignHostError, RegistryError } from '../../../lambda/registry';
import { json, localRegistries, registryError } from './local-server';

async function collect(generator: AsyncGenerator<string>): Promise<string[]> {
  const items: string[] = [];
  for await (const item of generator) items.push(item);
  return items;
}

describe('Class: RegistryClient', () => {
  const registries = localRegistries();

  describe('Method: catalog', () => {
    it('follows relative next links until the last page', async () => {
      // Prepare: distribution's paging, `n` repositories after `last`
      const repositories = ['a', 'b/c', 'd', 'e', 'f'];
      const { server, client } = await registries.start((request, response) => {
        const url = new URL(request.url ?? '/', 'http://127.0.0.1');
        const n = Number(url.searchParams.get('n') ?? 1000);
        const last = url.searchParams.get('last');
        const start = last ? repositories.indexOf(last) + 1 : 0;
        const page = repositories.slice(start, start + n);
        const more = start + n < repositories.length;
        json(
          response,
          200,
          { repositories: page },
          more
            ? { link: `</v2/_catalog?last=${encodeURIComponent(page.at(-1) ?? '')}&n=${n}>; rel="next"` }
            : {},
        );
      });

      // Act
      const names = await collect(client.catalog({ pageSize: 2 }));

      // Assess
      expect(names).toEqual(repositories);
      expect(server.requests.map((request) => request.url)).toEqual([
        '/v2/_catalog?n=2',
        '/v2/_catalog?last=b%2Fc&n=2',
        '/v2/_catalog?last=e&n=2',
      ]);
      expect(client.stats.catalog).toBe(3);
    });

    it('refuses a next link to another host', async () => {
      // Prepare
      const { server, client } = await registries.start((_request, response) =>
        json(
          response,
          200,
          { repositories: ['a'] },
          { link: '<http://169.254.169.254/latest/meta-data>; rel="next"' },
        ),
      );

      // Act
      const names: string[] = [];
      const listing = (async () => {
        for await (const name of client.catalog()) names.push(name);
      })();

      // Assess: the first page is delivered, the foreign link is not followed
      await expect(listing).rejects.toThrow(ForeignHostError);
      expect(names).toEqual(['a']);
      expect(server.requests).toHaveLength(1);
    });

    it('stops a registry whose links loop', async () => {
      // Prepare
      const { client } = await registries.start((_request, response) =>
        json(response, 200, { repositories: ['a'] }, { link: '</v2/_catalog>; rel="next"' }),
      );

      // Act & Assess
      await expect(collect(client.catalog())).rejects.toThrow(/next-page links loop/);
    });
  });

  describe('Method: tags', () => {
    it('yields nothing for "tags": null and for an unknown repository', async () => {
      // Prepare
      const { client } = await registries.start((request, response) =>
        request.url === '/v2/emptied/tags/list'
          ? json(response, 200, { name: 'emptied', tags: null })
          : json(response, 404, registryError('NAME_UNKNOWN', 'repository name not known to registry')),
      );

      // Act & Assess
      await expect(collect(client.tags('emptied'))).resolves.toEqual([]);
      await expect(collect(client.tags('never/pushed'))).resolves.toEqual([]);
    });

    it('yields every tag of every page', async () => {
      // Prepare
      const { client } = await registries.start((request, response) =>
        request.url?.includes('last=')
          ? json(response, 200, { name: 'a', tags: ['v3'] })
          : json(
              response,
              200,
              { name: 'a', tags: ['v1', 'v2'] },
              { link: '</v2/a/tags/list?n=2&last=v2>; rel="next"' },
            ),
      );

      // Act & Assess
      await expect(collect(client.tags('a', { pageSize: 2 }))).resolves.toEqual(['v1', 'v2', 'v3']);
    });

    it('reports other failures with the registry diagnostics', async () => {
      // Prepare
      const { client } = await registries.start((_request, response) =>
        json(response, 403, registryError('DENIED', 'requested access to the resource is denied')),
      );

      // Act
      const error = await collect(client.tags('a')).catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(RegistryError);
      expect(error).toMatchObject({ statusCode: 403, code: 'DENIED', method: 'GET' });
      expect((error as Error).message).toBe(
        'listing the tags of a: the registry answered HTTP 403 DENIED: requested access to the resource is denied',
      );
    });
  });
});
