import type { Digest } from '../../../lambda/domain';
import { executePlan, planRun } from '../../../lambda/engine';
import { compilePolicy } from '../../../lambda/policy';
import { RegistryClient } from '../../../lambda/registry';
import { startAnsweringProxy } from '../../helpers/answering-proxy';
import { daysAgo, pushBuilds as pushBuildsTo, useRegistry } from '../../helpers/registry-fixture';
import { headDigestRaw, listTagsRaw, pushImage, retag } from '../../../tools/pusher';
import type { RegistryProcess } from '../../../tools/registry-process';
const policy = compilePolicy({
  protect: ['latest'],
  rules: [{ name: 'builds', tags: 'build-\\d+', keep: 1 }],
});

describe('Function: executePlan (re-verification before each removal)', () => {
  const fixture = useRegistry();
  let registry: RegistryProcess;
  let client: RegistryClient;
  beforeEach(() => ({ registry, client } = fixture));
  const pushBuilds = (count: number): Promise<Digest[]> =>
    pushBuildsTo(fixture.registry.url, 'team/app', count);

  it('skips a tag that was moved to another digest between plan and sweep', async () => {
    // Prepare: plan removes build-1 and build-2; then build-1 is re-pointed at build-3's image.
    const digests = await pushBuilds(3);
    const { plan, inventory } = await planRun({ client, policy });
    await retag(registry.url, 'team/app', 'build-1', digests[3] as Digest);

    // Act
    const result = await executePlan(client, { ...plan, dryRun: false }, { concurrency: 4 });

    // Assess: build-1 now shares build-3's (kept) digest: untouched, and so is build-3.
    const tags = new Map(result.repositories[0]?.tags.map((tag) => [tag.tag, tag]));
    expect(tags.get('build-1')).toMatchObject({ action: 'delete', result: 'skipped-changed' });
    expect(tags.get('build-1')?.reason).toContain('now points at');
    expect(tags.get('build-2')).toMatchObject({ result: 'deleted' });
    expect((await listTagsRaw(registry.url, 'team/app')).sort()).toEqual(['build-1', 'build-3']);
    expect(await headDigestRaw(registry.url, 'team/app', 'build-3')).toBe(digests[3]);
    expect(inventory.repositories[0]?.tags).toHaveLength(3);
  });

  it('does not delete a digest that a tag pushed after planning now holds', async () => {
    // Prepare: after planning, `latest` is pushed onto build-1's digest (a rollback).
    const digests = await pushBuilds(3);
    const { plan } = await planRun({ client, policy });
    await retag(registry.url, 'team/app', 'latest', digests[1] as Digest);

    // Act
    const result = await executePlan(client, { ...plan, dryRun: false }, { concurrency: 4 });

    // Assess
    const tags = new Map(result.repositories[0]?.tags.map((tag) => [tag.tag, tag]));
    expect(tags.get('build-1')).toMatchObject({ result: 'skipped-changed' });
    expect(tags.get('build-1')?.reason).toContain("held by 'latest'");
    expect(await headDigestRaw(registry.url, 'team/app', 'latest')).toBe(digests[1]);
    expect((await listTagsRaw(registry.url, 'team/app')).sort()).toEqual(['build-1', 'build-3', 'latest']);
  });

  it('treats a tag removed by someone else since planning as skipped, not failed', async () => {
    const digests = await pushBuilds(2);
    const { plan } = await planRun({ client, policy });
    await client.deleteManifest('team/app', digests[1] as Digest);

    const result = await executePlan(client, { ...plan, dryRun: false }, { concurrency: 4 });

    expect(result.repositories[0]?.tags.find((tag) => tag.tag === 'build-1')).toMatchObject({
      result: 'skipped-changed',
    });
    expect(result.summary.failed).toBe(0);
  });

  it('resolves again only the tags that could hold a planned digest: kept, untag candidates, new', async () => {
    // Prepare: five builds (keep 1), `latest` (protected) on build-5; after planning, `hotfix` is
    // pushed onto build-2's digest. Every request of the re-verification is counted.
    const digests = await pushBuilds(5);
    await retag(registry.url, 'team/app', 'latest', digests[5] as Digest);
    const { plan } = await planRun({ client, policy });
    await retag(registry.url, 'team/app', 'hotfix', digests[2] as Digest);
    const proxy = await startAnsweringProxy(registry.url, () => undefined);
    const counted = new RegistryClient({ registry: proxy.url });
    try {
      // Act
      const result = await executePlan(counted, { ...plan, dryRun: false }, { concurrency: 4 });

      // Assess: the four candidates were not resolved again (their digests go whatever they point
      // at), the tags that could hold one were: build-5, latest and the new hotfix. hotfix holds
      // build-2's digest, so build-2 is skipped; the other three are deleted.
      const heads = proxy.requests.filter((line) => line.startsWith('HEAD '));
      expect(heads.sort()).toEqual([
        'HEAD /v2/team/app/manifests/build-5',
        'HEAD /v2/team/app/manifests/hotfix',
        'HEAD /v2/team/app/manifests/latest',
      ]);
      const tags = new Map(result.repositories[0]?.tags.map((tag) => [tag.tag, tag.result]));
      expect(Object.fromEntries(tags)).toEqual({
        'build-1': 'deleted',
        'build-2': 'skipped-changed',
        'build-3': 'deleted',
        'build-4': 'deleted',
        'build-5': undefined,
        latest: undefined,
      });
      expect((await listTagsRaw(registry.url, 'team/app')).sort()).toEqual([
        'build-2',
        'build-5',
        'hotfix',
        'latest',
      ]);
    } finally {
      await counted.close();
      await proxy.stop();
    }
  });

  it('reports a planned tag pushed again elsewhere before its old digest went as skipped, and keeps it', async () => {
    // Prepare: build-1 is planned for deletion, then pushed again as a new image.
    await pushBuilds(3);
    const { plan } = await planRun({ client, policy });
    const again = await pushImage(registry.url, 'team/app', 'build-1', {
      seed: 'rebuilt',
      created: daysAgo(0),
    });

    // Act
    const result = await executePlan(client, { ...plan, dryRun: false }, { concurrency: 4 });

    // Assess: its old digest is gone, the tag stays at the new one and is reported skipped.
    const build1 = result.repositories[0]?.tags.find((tag) => tag.tag === 'build-1');
    expect(build1).toMatchObject({ result: 'skipped-changed' });
    expect(build1?.reason).toContain(`the tag now points at ${again.digest}`);
    expect(await headDigestRaw(registry.url, 'team/app', 'build-1')).toBe(again.digest);
    expect(result.summary.failed).toBe(0);
  });
});
