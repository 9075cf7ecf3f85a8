import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { MANIFEST_ACCEPT, type Digest } from '../../../lambda/domain';
import { SqliteLedgerStore } from '../../../lambda/ledger';
import { runCli } from '../../helpers/cli';
import { deleteManifestRaw, headDigestRaw, pushImage, type PushedImage } from '../../../tools/pusher';
import { rawRequest } from '../../../tools/raw-http';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

const RUN = '01JDRESTORE0000000000000001';

async function manifestBytes(url: string, repository: string, digest: Digest): Promise<Buffer> {
  const response = await rawRequest(`${url}/v2/${repository}/manifests/${digest}`, {
    headers: { accept: MANIFEST_ACCEPT.join(', ') },
  });
  if (response.status !== 200) throw new Error(`GET ${digest}: ${response.status}`);
  return response.body;
}

/** Archives a manifest in the ledger as a sweep would, then deletes it from the registry. */
async function archiveAndDelete(
  store: SqliteLedgerStore,
  url: string,
  repository: string,
  image: Pick<PushedImage, 'digest' | 'mediaType'>,
  tags: string[],
): Promise<void> {
  await store.archiveRemoval({
    runId: RUN,
    repository,
    digest: image.digest,
    tags,
    mediaType: image.mediaType,
    body: await manifestBytes(url, repository, image.digest),
    removedAt: new Date(),
    reason: 'beyond keep=1',
  });
  expect(await deleteManifestRaw(url, repository, image.digest)).toBe(202);
}

describe('CLI: regsweep restore', () => {
  let registry: RegistryProcess;
  let ledgerPath: string;

  beforeEach(async () => {
    registry = await startRegistry();
    ledgerPath = join(mkdtempSync(join(tmpdir(), 'regsweep-restore-')), 'ledger.db');
  });

  afterEach(async () => {
    await registry.stop();
  });

  it('puts a multi-arch index back after its children, then its tags, as the same digests', async () => {
    // Prepare: `v1` a multi-arch index, both platform manifests archived and deleted with it;
    // `old` an image archived with two tags.
    const url = registry.url;
    const index = await pushImage(url, 'apps/web', 'v1', { kind: 'oci-index', seed: 'v1' });
    const old = await pushImage(url, 'apps/web', 'old', { seed: 'old' });
    await pushImage(url, 'apps/web', 'old-alias', { seed: 'old' });
    const store = new SqliteLedgerStore({ file: ledgerPath });
    await archiveAndDelete(store, url, 'apps/web', index, ['v1']);
    for (const child of index.children ?? [])
      await archiveAndDelete(
        store,
        url,
        'apps/web',
        { digest: child, mediaType: 'application/vnd.oci.image.manifest.v1+json' },
        [],
      );
    await archiveAndDelete(store, url, 'apps/web', old, ['old', 'old-alias']);
    await store.close();

    // Act
    const dry = await runCli([
      'restore',
      '--run',
      RUN,
      '--dry-run',
      '--registry',
      url,
      '--ledger',
      ledgerPath,
    ]);
    const stillGone = await headDigestRaw(url, 'apps/web', 'v1');
    const restored = await runCli([
      'restore',
      '--run',
      RUN,
      '--registry',
      url,
      '--ledger',
      ledgerPath,
      '--json',
    ]);

    // Assess
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('Dry run: 4 of 4 manifests can come back');
    expect(stillGone).toBeUndefined();
    expect(restored.status).toBe(0);
    expect(await headDigestRaw(url, 'apps/web', 'v1')).toBe(index.digest);
    for (const child of index.children ?? []) expect(await headDigestRaw(url, 'apps/web', child)).toBe(child);
    expect(await headDigestRaw(url, 'apps/web', 'old')).toBe(old.digest);
    expect(await headDigestRaw(url, 'apps/web', 'old-alias')).toBe(old.digest);
    const outcome = JSON.parse(restored.stdout) as { restored: Array<{ digest: string; result: string }> };
    const order = outcome.restored.map((entry) => entry.digest);
    for (const child of index.children ?? [])
      expect(order.indexOf(child)).toBeLessThan(order.indexOf(index.digest));
  });

  it('leaves a tag that was pushed again since, and restores one tag by name', async () => {
    // Prepare: `a` archived and deleted, then `a` pushed again as another image.
    const url = registry.url;
    const first = await pushImage(url, 'apps/api', 'a', { seed: 'a first' });
    await pushImage(url, 'apps/api', 'b', { seed: 'a first' });
    const store = new SqliteLedgerStore({ file: ledgerPath });
    await archiveAndDelete(store, url, 'apps/api', first, ['a', 'b']);
    await store.close();
    const again = await pushImage(url, 'apps/api', 'a', { seed: 'a again' });

    // Act
    const byRun = await runCli(['restore', '--run', RUN, '--registry', url, '--ledger', ledgerPath]);

    // Assess: `b` back on the old digest, `a` left on its new push.
    expect(byRun.status).toBe(0);
    expect(byRun.stdout).toMatch(/apps\/api:a\s+kept/);
    expect(await headDigestRaw(url, 'apps/api', 'a')).toBe(again.digest);
    expect(await headDigestRaw(url, 'apps/api', 'b')).toBe(first.digest);
  });

  it('after garbage collection says which cannot come back and why, and exits 1', async () => {
    // Prepare: archived, deleted, then the registry's offline garbage collection frees its blobs.
    const url = registry.url;
    const image = await pushImage(url, 'apps/gone', 'v1', { seed: 'gone', layerBytes: 1234 });
    const store = new SqliteLedgerStore({ file: ledgerPath });
    await archiveAndDelete(store, url, 'apps/gone', image, ['v1']);
    await store.close();
    await registry.garbageCollect();

    // Act
    const result = await runCli(['restore', 'apps/gone:v1', '--registry', url, '--ledger', ledgerPath]);
    const unknown = await runCli(['restore', 'apps/gone:never', '--registry', url, '--ledger', ledgerPath]);

    // Assess
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/apps\/gone:v1\s+cannot/);
    expect(result.stdout).toContain('is gone (garbage collection removed it)');
    expect(await headDigestRaw(url, 'apps/gone', 'v1')).toBeUndefined();
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('no unexpired archive of apps/gone:never');
  });

  it('refuses --run together with tags, and a missing ledger', async () => {
    const both = await runCli([
      'restore',
      '--run',
      RUN,
      'apps/a:b',
      '--registry',
      registry.url,
      '--ledger',
      ledgerPath,
    ]);
    const noLedger = await runCli(['restore', '--run', RUN, '--registry', registry.url]);
    expect(both.status).toBe(2);
    expect(noLedger.status).toBe(2);
    expect(noLedger.stderr).toContain('--ledger FILE');
  });
});

describe('CLI: regsweep sweep --ledger, then restore --run', () => {
  let registry: RegistryProcess;

  beforeEach(async () => {
    registry = await startRegistry();
  });

  afterEach(async () => {
    await registry.stop();
  });

  it('archives every removal under the run id, and restore brings each removed tag back at its digest', async () => {
    // Prepare: five builds (one a multi-arch index), keep 2; `alias` shares build-1's digest.
    const url = registry.url;
    const pushed = new Map<string, Digest>();
    for (let n = 1; n <= 5; n += 1) {
      const image = await pushImage(url, 'apps/api', `build-${n}`, {
        seed: `build ${n}`,
        created: new Date(Date.UTC(2026, 0, n)).toISOString(),
        ...(n === 2 && { kind: 'oci-index' as const }),
      });
      pushed.set(`build-${n}`, image.digest);
    }
    await pushImage(url, 'apps/api', 'build-alias', {
      seed: 'build 1',
      created: new Date(Date.UTC(2026, 0, 1)).toISOString(),
    });
    pushed.set('build-alias', pushed.get('build-1') as Digest);
    const ledgerPath = join(mkdtempSync(join(tmpdir(), 'regsweep-restore-run-')), 'ledger.db');
    const policy = join(mkdtempSync(join(tmpdir(), 'regsweep-restore-policy-')), 'policy.yaml');
    writeFileSync(policy, "rules:\n  - name: builds\n    tags: 'build-.*'\n    keep: 2\n");

    // Act
    const swept = await runCli([
      'sweep',
      '--registry',
      url,
      '--policy',
      policy,
      '--ledger',
      ledgerPath,
      '--json',
    ]);
    const plan = JSON.parse(swept.stdout) as {
      runId?: string;
      repositories: Array<{ tags: Array<{ tag: string; result?: string }> }>;
    };
    const removed = (plan.repositories[0]?.tags ?? []).filter(
      (tag) => tag.result === 'deleted' || tag.result === 'untagged',
    );
    const gone = await Promise.all(removed.map((tag) => headDigestRaw(url, 'apps/api', tag.tag)));
    const restored = await runCli([
      'restore',
      '--run',
      plan.runId ?? 'none',
      '--registry',
      url,
      '--ledger',
      ledgerPath,
    ]);

    // Assess
    expect(swept.status).toBe(0);
    expect(plan.runId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(removed.map((tag) => tag.tag).sort()).toEqual(['build-1', 'build-2', 'build-3', 'build-alias']);
    expect(gone).toEqual([undefined, undefined, undefined, undefined]);
    expect(restored.status).toBe(0);
    for (const tag of removed)
      expect(await headDigestRaw(url, 'apps/api', tag.tag)).toBe(pushed.get(tag.tag));
    // Every restored image copies whole (all platforms of the index, every blob), as a client pulls it.
    for (const tag of removed) {
      const copy = mkdtempSync(join(tmpdir(), 'regsweep-restore-copy-'));
      execFileSync(
        'skopeo',
        [
          'copy',
          '--all',
          '--src-tls-verify=false',
          `docker://${new URL(url).host}/apps/api:${tag.tag}`,
          `dir:${copy}`,
        ],
        { stdio: 'pipe' },
      );
    }
  });
});
