import { RegistryClient } from '../../../lambda/registry';
import { pushImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

async function collect(generator: AsyncGenerator<string>): Promise<string[]> {
  const items: string[] = [];
  for await (const item of generator) items.push(item);
  return items;
}

describe('Class: RegistryClient (distribution 2.8, catalog.maxentries 2)', () => {
  const repositories = ['team-a/api', 'team-a/web', 'team-b/worker', 'tools/lint', 'zeta'];
  let registry: RegistryProcess;
  let client: RegistryClient;

  beforeAll(async () => {
    registry = await startRegistry({ catalogMaxEntries: 2 });
    for (const repository of [...repositories].reverse()) await pushImage(registry.url, repository, 'v1');
    client = new RegistryClient({ registry: registry.url });
  });

  afterAll(async () => {
    await client?.close();
    await registry?.stop();
  });

  describe('Method: catalog', () => {
    it('follows the registry pages to list all 5 repositories, in order', async () => {
      // Act
      const names = await collect(client.catalog());

      // Assess
      expect(names).toEqual(repositories);
      expect(client.stats.catalog).toBe(3);
    });

    it('pages with an explicit page size, and falls back when the registry refuses a larger one', async () => {
      // Prepare
      const sized = new RegistryClient({ registry: registry.url });

      // Act
      const byOne = await collect(sized.catalog({ pageSize: 1 }));
      const pagesOfOne = sized.stats.catalog;
      const tooLarge = await collect(sized.catalog({ pageSize: 100 }));

      // Assess: 5 pages of one; the refused n=100 costs one request more than the 3 default pages
      expect(byOne).toEqual(repositories);
      expect(pagesOfOne).toBe(5);
      expect(tooLarge).toEqual(repositories);
      expect(sized.stats.catalog - pagesOfOne).toBe(4);
      await sized.close();
    });
  });

  describe('Method: tags', () => {
    it('lists the tags of a repository and nothing for an unknown one', async () => {
      // Prepare
      await pushImage(registry.url, 'zeta', 'v2');

      // Act & Assess
      await expect(collect(client.tags('zeta'))).resolves.toEqual(['v1', 'v2']);
      await expect(collect(client.tags('never/pushed'))).resolves.toEqual([]);
    });
  });
});
