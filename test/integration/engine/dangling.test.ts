import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Digest, Plan } from '../../../lambda/domain';
import { executePlan, planRun } from '../../../lambda/engine';
import { compilePolicy } from '../../../lambda/policy';
import { RegistryClient } from '../../../lambda/registry';
import { runCli } from '../../helpers/cli';
import { startGateProxy, type GateProxy, type GatedRequest } from '../../helpers/gate-proxy';
import { headDigestRaw, listTagsRaw, retag } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';
import { pushBuilds } from '../../helpers/registry-fixture';

const REPOSITORY = 'team/app';
const policy = compilePolicy({
  protect: ['latest'],
  rules: [{ name: 'builds', tags: '(build|alias)-\\d+', keep: 1 }],
});

/** `repository:tag`'s directory in the registry's storage. */
function tagDirectory(registry: RegistryProcess, tag: string): string {
  return join(registry.storageDir, 'docker/registry/v2/repositories', REPOSITORY, '_manifests/tags', tag);
}

/**
 * What distribution 2.x leaves when a digest DELETE fails halfway: the manifest's revision link
 * is gone (no pull, no HEAD reaches it), the tags on it are still listed.
 */
function removeManifestOnly(registry: RegistryProcess, digest: Digest): void {
  const revisions = join(
    registry.storageDir,
    'docker/registry/v2/repositories',
    REPOSITORY,
    '_manifests/revisions',
  );
  rmSync(join(revisions, 'sha256', digest.slice('sha256:'.length)), { recursive: true, force: true });
}

describe('Function: executePlan (tags a failed digest delete leaves dangling)', () => {
  let registry: RegistryProcess;
  let proxy: GateProxy | undefined;
  let client: RegistryClient | undefined;
  let digests: Digest[];

  beforeEach(async () => {
    registry = await startRegistry();
    // build-1 and alias-1 share one digest, build-2 has its own, build-3 is kept.
    digests = await pushBuilds(registry.url, REPOSITORY, 3);
    await retag(registry.url, REPOSITORY, 'alias-1', digests[1] as Digest);
  });

  afterEach(async () => {
    await client?.close();
    await proxy?.stop();
    client = undefined;
    proxy = undefined;
    await registry.stop();
  });

  /** Plans directly, then sweeps through a proxy whose `hook` sees every request. */
  async function sweepThrough(
    hook: (request: GatedRequest) => void,
  ): Promise<{ plan: Plan; requests: string[] }> {
    const planner = new RegistryClient({ registry: registry.url });
    const { plan } = await planRun({ client: planner, policy });
    await planner.close();
    const requests: string[] = [];
    proxy = await startGateProxy(registry.url, (request) => {
      requests.push(`${request.method} ${request.path}`);
      hook(request);
    });
    client = new RegistryClient({ registry: proxy.url, retry: { maxRetries: 0 } });
    const result = await executePlan(client, { ...plan, dryRun: false }, { concurrency: 4 });
    return { plan: result, requests };
  }

  const byTag = (plan: Plan) => new Map(plan.repositories[0]?.tags.map((tag) => [tag.tag, tag]));
  const deleteOf = (digest: Digest | undefined) => `DELETE /v2/${REPOSITORY}/manifests/${digest}`;

  it('clears them and reports the removal done when the DELETE failed after removing the manifest', async () => {
    // Prepare: the DELETE of build-1's digest removes the manifest, then fails (502).
    const { plan, requests } = await sweepThrough((request) => {
      if (`${request.method} ${request.path}` !== deleteOf(digests[1])) return;
      removeManifestOnly(registry, digests[1] as Digest);
      throw new Error('the storage driver failed');
    });

    // Assess: both tags on that digest are gone and reported deleted, with what happened.
    const tags = byTag(plan);
    for (const name of ['build-1', 'alias-1']) {
      expect(tags.get(name)).toMatchObject({ action: 'delete', result: 'deleted' });
      expect(tags.get(name)?.error).toBeUndefined();
      expect(tags.get(name)?.reason).toMatch(
        /the registry answered an error \(.*502.*\), yet the manifest was gone but the tag still listed, pointing at nothing: cleared$/,
      );
    }
    expect(tags.get('build-2')).toMatchObject({ result: 'deleted' });
    expect(plan.summary.failed).toBe(0);
    expect(await listTagsRaw(registry.url, REPOSITORY)).toEqual(['build-3']);
    expect(await headDigestRaw(registry.url, REPOSITORY, 'build-3')).toBe(digests[3]);
    // One DELETE per digest, one tag list after them, then the clearing of the two tags.
    expect(requests.filter((line) => line === deleteOf(digests[1]))).toHaveLength(1);
    expect(requests.filter((line) => line.startsWith(`GET /v2/${REPOSITORY}/tags/list`))).toHaveLength(2);
  });

  it('clears them when the DELETE answered 404 because the manifest was already gone', async () => {
    // Prepare: the manifest goes just before the DELETE reaches the registry, which answers 404.
    const { plan } = await sweepThrough((request) => {
      if (`${request.method} ${request.path}` === deleteOf(digests[1]))
        removeManifestOnly(registry, digests[1] as Digest);
    });

    const tags = byTag(plan);
    for (const name of ['build-1', 'alias-1']) {
      expect(tags.get(name)).toMatchObject({ result: 'deleted' });
      expect(tags.get(name)?.reason).toMatch(
        /; the manifest was gone but the tag still listed, pointing at nothing: cleared$/,
      );
    }
    expect(await listTagsRaw(registry.url, REPOSITORY)).toEqual(['build-3']);
  });

  it('leaves a failed removal failed when the manifest is still there, at the cost of one tag list', async () => {
    const { plan, requests } = await sweepThrough((request) => {
      if (`${request.method} ${request.path}` === deleteOf(digests[1]))
        throw new Error('the storage driver failed');
    });

    const tags = byTag(plan);
    for (const name of ['build-1', 'alias-1']) {
      expect(tags.get(name)).toMatchObject({ result: 'failed' });
      expect(tags.get(name)?.error).toContain('502');
      expect(await headDigestRaw(registry.url, REPOSITORY, name)).toBe(digests[1]);
    }
    expect(plan.summary.failed).toBe(2);
    expect(requests.filter((line) => line.startsWith(`GET /v2/${REPOSITORY}/tags/list`))).toHaveLength(2);
    expect(requests.filter((line) => line.startsWith('PUT '))).toHaveLength(0);
  });

  describe('left dangling before the run', () => {
    beforeEach(async () => {
      // latest shares build-1's digest; then that manifest goes, its three tags stay listed.
      await retag(registry.url, REPOSITORY, 'latest', digests[1] as Digest);
      removeManifestOnly(registry, digests[1] as Digest);
    });

    it('are named by the registry client, with the manifest they name', async () => {
      client = new RegistryClient({ registry: registry.url });

      expect(await client.danglingRevision(REPOSITORY, 'build-1')).toBe(digests[1]);
      expect(await client.danglingRevision(REPOSITORY, 'build-2')).toBeUndefined();
      expect(await client.danglingRevision(REPOSITORY, 'no-such-tag')).toBeUndefined();
    });

    it('are planned by name: removed where a rule removes, kept where protected', async () => {
      client = new RegistryClient({ registry: registry.url });
      const { plan } = await planRun({ client, policy });

      const tags = byTag(plan);
      expect([...tags.keys()]).toEqual(['alias-1', 'build-1', 'build-2', 'build-3', 'latest']);
      for (const name of ['alias-1', 'build-1'])
        expect(tags.get(name)).toMatchObject({ action: 'untag', digest: digests[1], dangling: true });
      expect(tags.get('latest')).toMatchObject({ action: 'keep', rule: 'protect', dangling: true });
      expect(tags.get('build-2')).toMatchObject({ action: 'delete', digest: digests[2] });
      expect(tags.get('build-3')).toMatchObject({ action: 'keep', digest: digests[3] });
    });

    it('are shown as such by regsweep plan', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'regsweep-dangling-')), 'policy.json');
      writeFileSync(file, JSON.stringify(policy.document));

      const result = await runCli(['plan', '--registry', registry.url, '--policy', file]);

      expect(result.status).toBe(0);
      const row = (tag: string) => result.stdout.split('\n').find((line) => line.startsWith(`${tag} `));
      expect(row('build-1')).toMatch(
        /^build-1 +untag \(dangling\) +builds .*listed, but its manifest is gone/,
      );
      expect(row('latest')).toMatch(/^latest +keep \(dangling\) +protect /);
    });

    it('are cleared one at a time by regsweep delete, and --digest says why it cannot', async () => {
      const byDigest = await runCli([
        'delete',
        '--registry',
        registry.url,
        '--digest',
        `${REPOSITORY}:latest`,
      ]);
      const byTag = await runCli(['delete', '--registry', registry.url, `${REPOSITORY}:latest`]);

      expect(byDigest.status).not.toBe(0);
      expect(byDigest.stderr).toContain(
        `${REPOSITORY}:latest has no manifest to delete: ${digests[1]} is gone already, the tag was left (remove it without --digest)`,
      );
      expect([byTag.status, byTag.stdout]).toEqual([
        0,
        `cleared ${REPOSITORY}:latest (placeholder): it was listed, but its manifest ${digests[1]} was gone already\n`,
      ]);
      expect((await listTagsRaw(registry.url, REPOSITORY)).sort()).toEqual([
        'alias-1',
        'build-1',
        'build-2',
        'build-3',
      ]);
    });

    it('are cleared by the sweep, and the protected one is left alone', async () => {
      const { plan } = await sweepThrough(() => undefined);

      const tags = byTag(plan);
      for (const name of ['alias-1', 'build-1']) expect(tags.get(name)).toMatchObject({ result: 'untagged' });
      expect(tags.get('build-2')).toMatchObject({ result: 'deleted' });
      expect(tags.get('latest')?.result).toBeUndefined();
      expect(plan.summary).toMatchObject({ delete: 1, untag: 2, failed: 0 });
      expect((await listTagsRaw(registry.url, REPOSITORY)).sort()).toEqual(['build-3', 'latest']);
    });

    it('are skipped when pushed again since planning', async () => {
      const planner = new RegistryClient({ registry: registry.url });
      const { plan } = await planRun({ client: planner, policy });
      await planner.close();
      await retag(registry.url, REPOSITORY, 'build-1', digests[3] as Digest);

      client = new RegistryClient({ registry: registry.url });
      const result = byTag(await executePlan(client, { ...plan, dryRun: false }, { concurrency: 4 }));

      expect(result.get('build-1')).toMatchObject({ result: 'skipped-changed' });
      expect(result.get('build-1')?.reason).toMatch(/skipped: the tag was pushed again since planning$/);
      expect(result.get('alias-1')).toMatchObject({ result: 'untagged' });
      expect(await headDigestRaw(registry.url, REPOSITORY, 'build-1')).toBe(digests[3]);
    });
  });

  describe('linking to no manifest (a tag removal cut short)', () => {
    beforeEach(() => {
      // build-1 keeps its directory, so it is listed, but loses its link; alias-1 is intact.
      rmSync(join(tagDirectory(registry, 'build-1'), 'current'), { recursive: true });
    });

    it('are planned with an empty digest, cleared by the sweep, and leave the image alone', async () => {
      const planner = new RegistryClient({ registry: registry.url });
      const { plan } = await planRun({ client: planner, policy });
      await planner.close();
      expect(byTag(plan).get('build-1')).toMatchObject({ action: 'untag', digest: '', dangling: true });
      expect(byTag(plan).get('alias-1')).toMatchObject({ action: 'delete', digest: digests[1] });

      client = new RegistryClient({ registry: registry.url });
      const result = byTag(await executePlan(client, { ...plan, dryRun: false }, { concurrency: 4 }));

      expect(result.get('build-1')).toMatchObject({ result: 'untagged' });
      expect(result.get('alias-1')).toMatchObject({ result: 'deleted' });
      expect(await listTagsRaw(registry.url, REPOSITORY)).toEqual(['build-3']);
    });

    it('is cleared by regsweep delete', async () => {
      const result = await runCli(['delete', '--registry', registry.url, `${REPOSITORY}:build-1`]);

      expect([result.status, result.stdout]).toEqual([
        0,
        `cleared ${REPOSITORY}:build-1 (placeholder): it was listed, but linked to no manifest\n`,
      ]);
      expect(await headDigestRaw(registry.url, REPOSITORY, 'alias-1')).toBe(digests[1]);
    });

    it('are told apart from a tag removed between listing and reading it', async () => {
      // Prepare: build-2 is removed whole when the plan first reads it (after the tag list).
      let removed = false;
      proxy = await startGateProxy(registry.url, (request) => {
        if (!removed && request.path === `/v2/${REPOSITORY}/manifests/build-2`) {
          removed = true;
          rmSync(tagDirectory(registry, 'build-2'), { recursive: true });
        }
      });
      client = new RegistryClient({ registry: proxy.url });

      const { plan } = await planRun({ client, policy });

      expect(removed).toBe(true);
      expect(byTag(plan).has('build-2')).toBe(false);
      expect(byTag(plan).get('build-1')).toMatchObject({ dangling: true });
    });
  });
});
