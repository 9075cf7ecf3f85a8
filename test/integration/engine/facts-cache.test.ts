import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Descriptor, Plan } from '../../../lambda/domain';
import { planRun } from '../../../lambda/engine';
import { DynamoDbLedgerStore, SqliteLedgerStore, type LedgerStore } from '../../../lambda/ledger';
import { compilePolicy, type Policy } from '../../../lambda/policy';
import { RegistryClient, type RequestKind } from '../../../lambda/registry';
import {
  describeManifest,
  pushArtifact,
  pushIndexOf,
  pushUntaggedImage,
  referrersTagOf,
} from '../../../tools/artifacts';
import { startDynalite } from '../../../tools/dynalite';
import { pushImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

const REPOSITORY = 'team/app';
const DAY_MS = 86_400_000;
const daysAgo = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString();
/** Ages are read (keep: 2 ranks by `created`); `latest` is protected. */
const byAge = compilePolicy({ protect: ['latest'], rules: [{ name: 'all', keep: 2 }] });
/** No age is read: natural order with keep only. */
const byName = compilePolicy({ protect: ['latest'], rules: [{ name: 'all', order: 'natural', keep: 2 }] });

/**
 * A plan's content, without the time it was made and the ledger times a plan with a ledger
 * carries (null: the ledger saw no push or pull, as here), to compare with a plan without one.
 */
function content(plan: Plan): unknown {
  const { generatedAt: _generatedAt, ...rest } = plan;
  return JSON.parse(
    JSON.stringify(rest, (key, value: unknown) =>
      (key === 'pushedAt' || key === 'pulledAt') && value === null ? undefined : value,
    ),
  ) as unknown;
}

describe('Feature: the facts cache (a warm plan sends one HEAD per tag)', () => {
  let registry: RegistryProcess;
  let directory: string;
  let counts: Map<RequestKind, number>;
  let client: RegistryClient;
  /** The tags pushed (all in REPOSITORY). */
  let tagCount: number;

  beforeAll(async () => {
    registry = await startRegistry();
    // Prepare: build-1..3, each with an SBOM and a signature under the referrers tag schema;
    // build-3 also as an artifact with `subject` (tagged); `latest` → index → untagged inner index
    // → [build-1's image, an untagged arm64 image].
    const url = registry.url;
    tagCount = 0;
    for (let n = 1; n <= 3; n += 1) {
      await pushImage(url, REPOSITORY, `build-${n}`, { kind: 'oci', created: daysAgo(10 - n) });
      const build = await describeManifest(url, REPOSITORY, `build-${n}`);
      const sbom = await pushArtifact(url, REPOSITORY, undefined, { subject: build, payload: `sbom ${n}` });
      const signature = await pushArtifact(url, REPOSITORY, undefined, {
        subject: build,
        artifactType: 'application/vnd.cncf.notary.signature',
        payload: `signature ${n}`,
      });
      await pushIndexOf(url, REPOSITORY, referrersTagOf(build.digest), [sbom, signature]);
      tagCount += 2;
    }
    const build3 = await describeManifest(url, REPOSITORY, 'build-3');
    await pushArtifact(url, REPOSITORY, 'build-3-sbom', { subject: build3, payload: 'tagged sbom' });
    const amd64: Descriptor = {
      ...(await describeManifest(url, REPOSITORY, 'build-1')),
      platform: { os: 'linux', architecture: 'amd64' },
    };
    const arm64 = await pushUntaggedImage(url, REPOSITORY, 'arm64', 'linux/arm64');
    const inner = await pushIndexOf(url, REPOSITORY, undefined, [amd64, arm64]);
    await pushIndexOf(url, REPOSITORY, 'latest', [inner]);
    tagCount += 2;
  });

  afterAll(async () => {
    await registry.stop();
  });

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'regsweep-facts-'));
    counts = new Map();
    client = new RegistryClient({
      registry: registry.url,
      onRequest: ({ kind }) => counts.set(kind, (counts.get(kind) ?? 0) + 1),
    });
  });

  afterEach(async () => {
    await client.close();
    rmSync(directory, { recursive: true, force: true });
  });

  /** Plans with `ledger` and answers the plan and the requests it sent, by kind. */
  async function countedPlan(policy: Policy, ledger?: LedgerStore, warn?: (message: string) => void) {
    counts.clear();
    const { plan } = await planRun({
      client,
      policy,
      ...(ledger && { ledger }),
      ...(warn && { warn }),
    });
    return { plan, requests: new Map(counts) };
  }

  it.each([
    ['ages are read', byAge],
    ['no age is read', byName],
  ])(
    'plans the same cold and warm (%s); warm sends one HEAD per tag plus the listings',
    async (_, policy) => {
      const ledger = new SqliteLedgerStore({ file: join(directory, 'ledger.db') });
      const without = await countedPlan(policy);

      const cold = await countedPlan(policy, ledger);
      const warm = await countedPlan(policy, ledger);

      expect(content(cold.plan)).toEqual(content(without.plan));
      expect(content(warm.plan)).toEqual(content(cold.plan));
      expect(cold.plan.repositories[0]?.tags).toHaveLength(tagCount);
      expect(cold.plan.summary.delete + cold.plan.summary.untag).toBeGreaterThan(0);
      expect(cold.requests.get('get-manifest') ?? 0).toBeGreaterThan(0);
      expect(warm.requests.get('head-manifest')).toBe(tagCount);
      expect(warm.requests.get('get-manifest') ?? 0).toBe(0);
      expect(warm.requests.get('get-blob') ?? 0).toBe(0);
      // The rest: the catalog, the tag list, the referrers-API probe (404 on distribution).
      const others = [...warm.requests].filter(([kind]) => kind !== 'head-manifest');
      expect(Object.fromEntries(others)).toEqual({ catalog: 1, tags: 1, referrers: 1 });
      await ledger.close();
    },
  );

  it('works the same with the ledger on DynamoDB (dynalite)', async () => {
    const dynalite = await startDynalite();
    try {
      await dynalite.createLedgerTable('facts');
      const ledger = new DynamoDbLedgerStore({ tableName: 'facts', clientConfig: dynalite.clientConfig });
      const cold = await countedPlan(byAge, ledger);

      const warm = await countedPlan(byAge, ledger);

      expect(content(warm.plan)).toEqual(content(cold.plan));
      expect(warm.requests.get('head-manifest')).toBe(tagCount);
      expect((warm.requests.get('get-manifest') ?? 0) + (warm.requests.get('get-blob') ?? 0)).toBe(0);
      await ledger.close();
    } finally {
      await dynalite.stop();
    }
  });

  it('keeps the ages and links a plan needs: created, the index children at every depth, subjects', async () => {
    const ledger = new SqliteLedgerStore({ file: join(directory, 'ledger.db') });
    const cold = await planRun({ client, policy: byAge, ledger });

    const warm = await planRun({ client, policy: byAge, ledger });

    const coldRepo = cold.inventory.repositories[0];
    const warmRepo = warm.inventory.repositories[0];
    expect(warmRepo?.indexes).toEqual(coldRepo?.indexes);
    expect(warmRepo?.indexes).toHaveLength(1); // the untagged inner index of `latest`
    expect(warmRepo?.referrers).toEqual(coldRepo?.referrers);
    expect(warmRepo?.tags).toEqual(coldRepo?.tags);
    const sbom = warmRepo?.tags.find((tag) => tag.tag === 'build-3-sbom');
    expect(sbom?.subject).toBe(warmRepo?.tags.find((tag) => tag.tag === 'build-3')?.digest);
    expect(warmRepo?.tags.find((tag) => tag.tag === 'build-1')?.created).toBeInstanceOf(Date);
    // build-1 is reached through `latest`'s inner index: kept by it, warm as cold.
    const build1 = warm.plan.repositories[0]?.tags.find((tag) => tag.tag === 'build-1');
    expect(build1?.action).toBe('untag');
    expect(build1?.reason).toContain("kept tag 'latest'");
    await ledger.close();
  });

  it('facts written by a plan that read no ages serve a plan that does: the build times are in', async () => {
    const ledger = new SqliteLedgerStore({ file: join(directory, 'ledger.db') });
    const fresh = new SqliteLedgerStore({ file: join(directory, 'fresh.db') });
    const cold = await countedPlan(byAge, fresh);
    await countedPlan(byName, ledger);

    const warm = await countedPlan(byAge, ledger);

    expect(content(warm.plan)).toEqual(content(cold.plan));
    const latest = warm.plan.repositories[0]?.tags.find((tag) => tag.tag === 'latest');
    expect(latest?.created).not.toBeNull();
    await ledger.close();
    await fresh.close();
  });

  it('a failed putFacts is a warning: the plan is the same, and the next plan reads again', async () => {
    const store = new SqliteLedgerStore({ file: join(directory, 'ledger.db') });
    const failing: LedgerStore = Object.create(store, {
      putFacts: { value: () => Promise.reject(new Error('database is locked')) },
    }) as LedgerStore;
    const warnings: string[] = [];
    const without = await countedPlan(byAge);

    const first = await countedPlan(byAge, failing, (message) => warnings.push(message));
    const second = await countedPlan(byAge, failing, (message) => warnings.push(message));

    expect(content(first.plan)).toEqual(content(without.plan));
    expect(warnings[0]).toBe(
      `the facts read of ${REPOSITORY}'s manifests were not recorded in the ledger: database is locked`,
    );
    expect(second.requests.get('get-manifest')).toBe(first.requests.get('get-manifest'));
    await store.close();
  });

  it('a failed getManifests is a warning: the digests are read from the registry', async () => {
    const store = new SqliteLedgerStore({ file: join(directory, 'ledger.db') });
    await countedPlan(byAge, store); // the facts are in the ledger
    // The first read (the facts cache's) fails; the ledger times' read after it answers.
    let calls = 0;
    const failing: LedgerStore = Object.create(store, {
      getManifests: {
        value: (...args: Parameters<LedgerStore['getManifests']>) =>
          (calls += 1) === 1 ? Promise.reject(new Error('ledger unreachable')) : store.getManifests(...args),
      },
    }) as LedgerStore;
    const warnings: string[] = [];
    const without = await countedPlan(byAge);

    const { plan, requests } = await countedPlan(byAge, failing, (message) => warnings.push(message));

    expect(content(plan)).toEqual(content(without.plan));
    expect(warnings).toContain(
      `the ledger could not give the facts of ${REPOSITORY}'s manifests: ledger unreachable`,
    );
    expect(requests.get('get-manifest') ?? 0).toBeGreaterThan(0);
    await store.close();
  });
});
