import { join } from 'node:path';

import type { Digest } from '../../../lambda/domain';
import { sweepRun } from '../../../lambda/engine';
import { SqliteLedgerStore, type LedgerStore, type NewRemoval } from '../../../lambda/ledger';
import { compilePolicy } from '../../../lambda/policy';
import { RegistryClient } from '../../../lambda/registry';
import { makeTempDir, removeTempDir } from '../../../tools/exit-cleanup';
import { headDigestRaw, pushImage } from '../../../tools/pusher';
import { rawRequest } from '../../../tools/raw-http';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

const policy = compilePolicy({ rules: [{ name: 'builds', tags: 'build-\\d+', keep: 1 }] });

/** The ledger, with `archiveRemoval` refused for one digest. */
function refusingArchive(store: LedgerStore, refused: Digest): LedgerStore {
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key !== 'archiveRemoval') return Reflect.get(target, key, receiver) as unknown;
      return (removal: NewRemoval) =>
        removal.digest === refused
          ? Promise.reject(new Error('database is locked'))
          : target.archiveRemoval(removal);
    },
  });
}

describe('Function: sweepRun with a ledger (archive before each removal)', () => {
  let registry: RegistryProcess;
  let client: RegistryClient;
  let directory: string;

  beforeEach(async () => {
    registry = await startRegistry();
    client = new RegistryClient({ registry: registry.url });
    directory = makeTempDir('regsweep-archive-');
  });

  afterEach(async () => {
    await client.close();
    await registry.stop();
    await removeTempDir(directory);
  });

  it('archives the exact manifest bytes of each removal under the run id before removing it', async () => {
    // Prepare
    const url = registry.url;
    const old = await pushImage(url, 'team/app', 'build-1', { created: '2026-01-01T00:00:00Z' });
    await pushImage(url, 'team/app', 'build-2', { created: '2026-02-01T00:00:00Z' });
    const bytes = (
      await rawRequest(`${url}/v2/team/app/manifests/${old.digest}`, { headers: { accept: old.mediaType } })
    ).body;
    const ledger = new SqliteLedgerStore({ file: join(directory, 'ledger.db') });

    // Act
    const plan = await sweepRun({ client, policy, ledger });

    // Assess
    expect(plan.runId).toBeDefined();
    const archived = await ledger.listRemovals(plan.runId as string);
    expect(archived).toHaveLength(1);
    expect(archived[0]).toMatchObject({ repository: 'team/app', digest: old.digest, tags: ['build-1'] });
    expect(Buffer.from(archived[0]?.body ?? []).equals(bytes)).toBe(true);
    expect(await headDigestRaw(url, 'team/app', 'build-1')).toBeUndefined();
    await ledger.close();
  });

  it('does not send a removal whose archive write failed, and reports it failed', async () => {
    // Prepare: build-1 and build-2 are removed; the ledger refuses build-1's archive.
    const url = registry.url;
    const first = await pushImage(url, 'team/app', 'build-1', { created: '2026-01-01T00:00:00Z' });
    const second = await pushImage(url, 'team/app', 'build-2', { created: '2026-02-01T00:00:00Z' });
    await pushImage(url, 'team/app', 'build-3', { created: '2026-03-01T00:00:00Z' });
    const store = new SqliteLedgerStore({ file: join(directory, 'ledger.db') });

    // Act
    const plan = await sweepRun({ client, policy, ledger: refusingArchive(store, first.digest) });

    // Assess: build-1 still there, reported failed with the reason; build-2 archived and removed.
    const tags = new Map(plan.repositories[0]?.tags.map((tag) => [tag.tag, tag]));
    expect(tags.get('build-1')).toMatchObject({ result: 'failed' });
    expect(tags.get('build-1')?.error).toContain(
      'not removed: archiving the manifest first failed: database is locked',
    );
    expect(await headDigestRaw(url, 'team/app', 'build-1')).toBe(first.digest);
    expect(tags.get('build-2')).toMatchObject({ result: 'deleted' });
    expect(await headDigestRaw(url, 'team/app', 'build-2')).toBeUndefined();
    expect((await store.listRemovals(plan.runId as string)).map((removal) => removal.digest)).toEqual([
      second.digest,
    ]);
    await store.close();
  });
});
