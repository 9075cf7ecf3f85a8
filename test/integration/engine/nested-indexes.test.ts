import type { Descriptor, Digest } from '../../../lambda/domain';
import { MANIFEST_ACCEPT } from '../../../lambda/domain';
import { executePlan, planRun, sweepRun } from '../../../lambda/engine';
import { compilePolicy } from '../../../lambda/policy';
import { RegistryClient } from '../../../lambda/registry';
import { runCli } from '../../helpers/cli';
import { describeManifest, pushIndexOf, pushUntaggedImage } from '../../../tools/artifacts';
import { headDigestRaw, listTagsRaw, pushImage } from '../../../tools/pusher';
import { rawRequest } from '../../../tools/raw-http';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

const REPOSITORY = 'team/app';
const DAY_MS = 86_400_000;
const daysAgo = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString();
const policy = compilePolicy({
  protect: ['latest'],
  rules: [{ name: 'builds', tags: 'main-\\d+', keep: 1 }],
});

/**
 * Pulls `reference` as a client would: GETs it and, for an index, every manifest it lists, at any
 * depth. Answers each manifest's digest with the GET's status (200 when it pulls).
 */
async function pull(registryUrl: string, reference: string): Promise<Map<string, number>> {
  const statuses = new Map<string, number>();
  const visit = async (ref: string): Promise<void> => {
    const response = await rawRequest(`${registryUrl}/v2/${REPOSITORY}/manifests/${ref}`, {
      headers: { accept: MANIFEST_ACCEPT.join(', ') },
    });
    statuses.set(ref, response.status);
    if (response.status !== 200) return;
    const manifests = (JSON.parse(response.body.toString()) as { manifests?: Descriptor[] }).manifests;
    for (const child of manifests ?? []) if (!statuses.has(child.digest)) await visit(child.digest);
  };
  await visit(reference);
  return statuses;
}

describe('Feature: nested indexes (a kept tag reaches a digest through an untagged inner index)', () => {
  let registry: RegistryProcess;
  let client: RegistryClient;
  /** main-1's platform manifest: also the amd64 manifest of `latest`'s untagged inner index. */
  let platform: Digest;

  beforeEach(async () => {
    registry = await startRegistry();
    client = new RegistryClient({ registry: registry.url });
    // Prepare: main-1 (old) and main-2 (new) builds; latest → index → untagged index → main-1's
    // image and an untagged arm64 image.
    platform = (await pushImage(registry.url, REPOSITORY, 'main-1', { kind: 'oci', created: daysAgo(10) }))
      .digest;
    await pushImage(registry.url, REPOSITORY, 'main-2', { kind: 'oci', created: daysAgo(1) });
  });

  afterEach(async () => {
    await client.close();
    await registry.stop();
  });

  /** Pushes `tag` → index → untagged inner index → [main-1's image, an untagged arm64 image]. */
  async function pushNestedIndex(tag: string): Promise<Descriptor> {
    const amd64 = {
      ...(await describeManifest(registry.url, REPOSITORY, platform)),
      platform: { os: 'linux', architecture: 'amd64' },
    };
    const arm64 = await pushUntaggedImage(registry.url, REPOSITORY, 'arm64', 'linux/arm64');
    const inner = await pushIndexOf(registry.url, REPOSITORY, undefined, [amd64, arm64]);
    return pushIndexOf(registry.url, REPOSITORY, tag, [inner]);
  }

  it('plans main-1 as untag, naming the kept tag that reaches its digest', async () => {
    await pushNestedIndex('latest');

    const { plan } = await planRun({ client, policy });

    const main1 = plan.repositories[0]?.tags.find((tag) => tag.tag === 'main-1');
    expect(main1).toMatchObject({ action: 'untag' });
    expect(main1?.reason).toContain("kept tag 'latest'");
  });

  it('sweeps main-1 away and latest still pulls: every manifest it reaches resolves', async () => {
    await pushNestedIndex('latest');

    const result = await sweepRun({ client, policy });

    expect(result.repositories[0]?.tags.find((tag) => tag.tag === 'main-1')).toMatchObject({
      action: 'untag',
      result: 'untagged',
    });
    expect((await listTagsRaw(registry.url, REPOSITORY)).sort()).toEqual(['latest', 'main-2']);
    const pulled = await pull(registry.url, 'latest');
    expect(pulled.size).toBe(4); // latest, the inner index, two platform images
    expect([...pulled.values()].every((status) => status === 200)).toBe(true);
    expect(pulled.get(platform)).toBe(200);
  });

  it('re-verification skips a digest that an index pushed after planning reaches through an untagged index', async () => {
    // Prepare: planned while nothing reached main-1's image; then `latest` is pushed onto it.
    const { plan, inventory } = await planRun({ client, policy });
    expect(plan.repositories[0]?.tags.find((tag) => tag.tag === 'main-1')?.action).toBe('delete');
    await pushNestedIndex('latest');

    // Act
    const result = await executePlan(client, { ...plan, dryRun: false }, { concurrency: 4 });

    // Assess
    const main1 = result.repositories[0]?.tags.find((tag) => tag.tag === 'main-1');
    expect(main1).toMatchObject({ result: 'skipped-changed' });
    expect(main1?.reason).toContain("held by 'latest (through its index)'");
    expect([...(await pull(registry.url, 'latest')).values()].every((status) => status === 200)).toBe(true);
    expect(inventory.repositories[0]?.tags).toHaveLength(2);
  });

  it('delete --digest refuses a digest other tags reach through their indexes, naming them', async () => {
    await pushNestedIndex('latest');

    const result = await runCli(['delete', '--registry', registry.url, '--digest', `${REPOSITORY}:main-1`]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain('latest (through its index)');
    expect(result.stderr).toContain('--force');
    expect((await listTagsRaw(registry.url, REPOSITORY)).sort()).toEqual(['latest', 'main-1', 'main-2']);
    expect(await headDigestRaw(registry.url, REPOSITORY, platform)).toBe(platform);
  });

  it('delete --digest --force deletes it anyway and says what it broke', async () => {
    await pushNestedIndex('latest');

    const result = await runCli([
      'delete',
      '--registry',
      registry.url,
      '--digest',
      '--force',
      `${REPOSITORY}:main-1`,
    ]);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`deleted ${REPOSITORY}@${platform} and every tag on it: main-1`);
    expect(result.stderr).toContain('latest (through its index)');
    expect(await headDigestRaw(registry.url, REPOSITORY, platform)).toBeUndefined();
  });

  it('delete of the tag alone untags it: the digest stays for latest', async () => {
    await pushNestedIndex('latest');

    const result = await runCli(['delete', '--registry', registry.url, `${REPOSITORY}:main-1`]);

    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/untagged team\/app:main-1 .*latest \(through its index\)/);
    expect([...(await pull(registry.url, 'latest')).values()].every((status) => status === 200)).toBe(true);
  });

  it('reads each inner index once per repository, however many tags reach it', async () => {
    const top = await pushNestedIndex('latest');
    await pushIndexOf(registry.url, REPOSITORY, 'stable', [top]); // an index of an index of an index
    const counting = new RegistryClient({ registry: registry.url });
    // Ordered by name: no ages, so every manifest GET is the index graph's.
    const byName = compilePolicy({
      protect: ['latest', 'stable'],
      rules: [{ name: 'builds', tags: 'main-\\d+', order: 'natural', keep: 1 }],
    });

    const { inventory, plan } = await planRun({ client: counting, policy: byName });
    await counting.close();

    // latest and stable (GET each: tagged indexes), then the untagged inner index once; latest's
    // digest, listed by stable, is tagged and not read again.
    expect(counting.stats['get-manifest']).toBe(3);
    expect(inventory.repositories[0]?.indexes).toHaveLength(1);
    expect(plan.repositories[0]?.tags.find((tag) => tag.tag === 'main-1')?.action).toBe('untag');
  });
});
