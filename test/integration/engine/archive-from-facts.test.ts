import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Digest } from '../../../lambda/domain';
import { planRun, sweepRun } from '../../../lambda/engine';
import { SqliteLedgerStore } from '../../../lambda/ledger';
import { compilePolicy } from '../../../lambda/policy';
import { RegistryClient, type RequestKind } from '../../../lambda/registry';
import { pushImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

const REPOSITORY = 'team/app';
const DAY_MS = 86_400_000;
/** Ages are read: keep the newest build. */
const POLICY = compilePolicy({ rules: [{ name: 'newest', keep: 1 }] });

describe('Feature: a sweep archives each removal from the facts cache', () => {
  let registry: RegistryProcess;
  let directory: string;
  let ledger: SqliteLedgerStore;
  let counts: Map<RequestKind, number>;
  let client: RegistryClient;

  beforeEach(async () => {
    registry = await startRegistry();
    directory = mkdtempSync(join(tmpdir(), 'regsweep-archive-'));
    ledger = new SqliteLedgerStore({ file: join(directory, 'ledger.db') });
    counts = new Map();
    client = new RegistryClient({
      registry: registry.url,
      onRequest: ({ kind }) => counts.set(kind, (counts.get(kind) ?? 0) + 1),
    });
    for (let n = 1; n <= 4; n += 1)
      await pushImage(registry.url, REPOSITORY, `build-${n}`, {
        kind: n % 2 === 0 ? 'oci' : 'docker',
        created: new Date(Date.now() - (10 - n) * DAY_MS).toISOString(),
      });
  });

  afterEach(async () => {
    await client.close();
    await ledger.close();
    await registry.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  /** What the registry serves for each build, before the sweep: the bytes restore must push back. */
  async function servedBodies(): Promise<Map<Digest, Buffer>> {
    const bodies = new Map<Digest, Buffer>();
    for (let n = 1; n <= 3; n += 1) {
      const content = await client.getManifest(REPOSITORY, `build-${n}`);
      bodies.set(content.digest, Buffer.from(content.bytes));
    }
    return bodies;
  }

  it('reads no manifest to archive when the facts kept the bodies, and archives the exact bytes', async () => {
    // Prepare: a plan with the ledger writes the facts (and the bodies)
    await planRun({ client, policy: POLICY, ledger });
    const served = await servedBodies();
    counts.clear();

    // Act
    const swept = await sweepRun({ client, policy: POLICY, ledger });

    // Assess
    expect(swept.summary.delete).toBe(3);
    expect(counts.get('get-manifest') ?? 0).toBe(0);
    expect(counts.get('get-blob') ?? 0).toBe(0);
    const archived = await ledger.listRemovals(swept.runId as string);
    expect(archived.map((removal) => removal.digest).sort()).toEqual([...served.keys()].sort());
    for (const removal of archived)
      expect(Buffer.from(removal.body).equals(served.get(removal.digest) as Buffer)).toBe(true);
  });

  it('reads the manifest again when the body the ledger holds does not match its digest', async () => {
    // Prepare: the facts of build-1 carry bytes that are not its manifest
    await planRun({ client, policy: POLICY, ledger });
    const served = await servedBodies();
    const build1 = await client.resolve(REPOSITORY, 'build-1');
    const facts = (await ledger.getManifests(REPOSITORY, [build1?.digest as Digest])).get(
      build1?.digest as Digest,
    );
    await ledger.putFacts(REPOSITORY, [
      {
        digest: build1?.digest as Digest,
        mediaType: facts?.mediaType as string,
        size: facts?.size as number,
        ...(facts?.created && { created: facts.created }),
        body: new Uint8Array(Buffer.from('{"not":"this manifest"}')),
      },
    ]);
    counts.clear();

    // Act
    const swept = await sweepRun({ client, policy: POLICY, ledger });

    // Assess: one GET (build-1's), and every archive holds what the registry served
    expect(swept.summary.delete).toBe(3);
    expect(counts.get('get-manifest') ?? 0).toBe(1);
    const archived = await ledger.listRemovals(swept.runId as string);
    expect(archived).toHaveLength(3);
    for (const removal of archived)
      expect(Buffer.from(removal.body).equals(served.get(removal.digest) as Buffer)).toBe(true);
  });
});
