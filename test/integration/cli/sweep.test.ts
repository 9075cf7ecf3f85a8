import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Plan } from '../../../lambda/domain';
import { runCli } from '../../helpers/cli';
import { headDigestRaw, listTagsRaw, pushImage, retag } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

const DAY_MS = 86_400_000;
const daysAgo = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString();

function writePolicy(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'regsweep-policy-')), 'policy.yaml');
  writeFileSync(file, text);
  return file;
}

const POLICY = `
protect: [latest, 'v\\d+\\.\\d+\\.\\d+']
rules:
  - name: branch-builds
    repositories: ['apps/**']
    tags: (main|develop)-\\d+
    groupBy: (main|develop)-\\d+
    keep: 2
  - name: pull-requests
    tags: pr-\\d+
    olderThan: 7d
`;

describe('CLI: regsweep sweep', () => {
  let registry: RegistryProcess;

  beforeEach(async () => {
    registry = await startRegistry();
  });

  afterEach(async () => {
    await registry.stop();
  });

  it('keeps the newest N per stream, protected tags and their digests, and a kept index whole', async () => {
    // Prepare: five main builds (main-5 newest, a multi-arch index), three develop builds, two PR
    // builds (one old), releases (v2.0.0 a multi-arch index), `latest` sharing the oldest main
    // build's digest, and an old branch tag pointing at one platform child of the release index.
    const url = registry.url;
    const mainCreated = [0, 1, 2, 3, 4].map((n) => daysAgo(10 - n));
    for (let n = 1; n <= 4; n += 1) {
      await pushImage(url, 'apps/web', `main-${n}`, { created: mainCreated[n], seed: `main-${n}` });
    }
    const newest = await pushImage(url, 'apps/web', 'main-5', { kind: 'oci-index', created: daysAgo(1) });
    const index = await pushImage(url, 'apps/web', 'v2.0.0', { kind: 'docker-list', created: daysAgo(30) });
    for (let n = 1; n <= 3; n += 1)
      await pushImage(url, 'apps/web', `develop-${n}`, { created: daysAgo(10 - n) });
    await pushImage(url, 'apps/web', 'pr-1', { created: daysAgo(20) });
    await pushImage(url, 'apps/web', 'pr-2', { created: daysAgo(1) });
    await pushImage(url, 'apps/web', 'v1.0.0', { created: daysAgo(100) });
    const shared = await pushImage(url, 'apps/web', 'latest', { seed: 'main-1', created: mainCreated[1] });
    const child = index.children?.[0];
    if (!child) throw new Error('the index has no children');
    await retag(url, 'apps/web', 'main-0', child);
    const policy = writePolicy(POLICY);

    // Act
    const result = await runCli(['sweep', '--registry', url, '--policy', policy, '--json']);

    // Assess: exit 0, exactly the kept tags remain, and every kept digest still resolves.
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const remaining = (await listTagsRaw(url, 'apps/web')).sort();
    expect(remaining).toEqual([
      'develop-2',
      'develop-3',
      'latest',
      'main-4',
      'main-5',
      'pr-2',
      'v1.0.0',
      'v2.0.0',
    ]);
    expect(await headDigestRaw(url, 'apps/web', 'latest')).toBe(shared.digest);
    expect(await headDigestRaw(url, 'apps/web', 'main-5')).toBe(newest.digest);
    expect(await headDigestRaw(url, 'apps/web', 'v2.0.0')).toBe(index.digest);
    for (const digest of [...(index.children ?? []), ...(newest.children ?? [])]) {
      expect(await headDigestRaw(url, 'apps/web', digest)).toBe(digest);
    }
    const plan = JSON.parse(result.stdout) as Plan;
    const byTag = new Map(plan.repositories[0]?.tags.map((tag) => [tag.tag, tag]));
    expect(byTag.get('main-1')).toMatchObject({ action: 'untag', result: 'untagged' });
    expect(byTag.get('main-1')?.reason).toContain('latest');
    expect(byTag.get('main-0')).toMatchObject({ action: 'untag', result: 'untagged' });
    expect(byTag.get('main-2')).toMatchObject({ action: 'delete', result: 'deleted', rule: 'branch-builds' });
    expect(byTag.get('pr-1')).toMatchObject({ action: 'delete', result: 'deleted', rule: 'pull-requests' });
    expect(byTag.get('v1.0.0')).toMatchObject({ action: 'keep', rule: 'protect' });
    expect(plan.dryRun).toBe(false);
    expect(plan.summary).toMatchObject({ repositories: 1, failed: 0 });
  });

  it('plans without removing anything, explaining each tag in a table', async () => {
    // Prepare
    const url = registry.url;
    for (let n = 1; n <= 3; n += 1)
      await pushImage(url, 'apps/api', `main-${n}`, { created: daysAgo(10 - n) });
    const policy = writePolicy(POLICY);

    // Act
    const result = await runCli(['plan', '--registry', url, '--policy', policy]);

    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/apps\/api/);
    expect(result.stdout).toMatch(/main-1\s+delete\s+branch-builds/);
    expect(result.stdout).toMatch(/main-3\s+keep\s+branch-builds/);
    expect(result.stdout).toContain('1 delete');
    expect((await listTagsRaw(url, 'apps/api')).sort()).toEqual(['main-1', 'main-2', 'main-3']);
  });

  it('refuses a plan over limits.maxDeletesPerRun with exit 2 and removes nothing', async () => {
    // Prepare
    const url = registry.url;
    for (let n = 1; n <= 5; n += 1)
      await pushImage(url, 'apps/api', `main-${n}`, { created: daysAgo(10 - n) });
    const policy = writePolicy(`${POLICY}\nlimits:\n  maxDeletesPerRun: 2\n`);

    // Act
    const result = await runCli(['sweep', '--registry', url, '--policy', policy]);

    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('maxDeletesPerRun');
    expect(await listTagsRaw(url, 'apps/api')).toHaveLength(5);
  });
});

describe('CLI: regsweep sweep against a registry with deletion disabled', () => {
  it('exits 2 naming storage.delete.enabled, with nothing removed (untags included)', async () => {
    // Prepare
    const registry = await startRegistry({ deleteEnabled: false });
    try {
      const url = registry.url;
      const created = [0, 1, 2, 3, 4].map((n) => daysAgo(10 - n));
      for (let n = 1; n <= 4; n += 1) {
        await pushImage(url, 'apps/web', `main-${n}`, { created: created[n], seed: `b${n}` });
      }
      // latest shares main-1's digest: the plan untags main-1, which must not happen either.
      const latest = await pushImage(url, 'apps/web', 'latest', { seed: 'b1', created: created[1] });
      expect(await headDigestRaw(url, 'apps/web', 'main-1')).toBe(latest.digest);
      const before = await Promise.all(
        ['main-1', 'main-2', 'latest'].map((tag) => headDigestRaw(url, 'apps/web', tag)),
      );

      // Act
      const result = await runCli(['sweep', '--registry', url, '--policy', writePolicy(POLICY)]);

      // Assess
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('storage.delete.enabled');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect((await listTagsRaw(url, 'apps/web')).sort()).toEqual([
        'latest',
        'main-1',
        'main-2',
        'main-3',
        'main-4',
      ]);
      const after = await Promise.all(
        ['main-1', 'main-2', 'latest'].map((tag) => headDigestRaw(url, 'apps/web', tag)),
      );
      expect(after).toEqual(before);
    } finally {
      await registry.stop();
    }
  });
});
