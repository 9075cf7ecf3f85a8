import type { Plan } from '../../../lambda/domain';
import { runCli } from '../../helpers/cli';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy';
import { headDigestRaw } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';
import { recordMeasurement } from '../../helpers/run-report';
import {
  copyStorage,
  countTags,
  keptByPlan,
  lostTags,
  removeStorageCopy,
  seedStoppedStressSet,
  snapshotLines,
  snapshotTags,
  stressRepositories,
  type SeededSet,
  type TagSnapshot,
} from '../../helpers/stress-set';
import { manifestRevisions } from '../registry/storage';

const REPOSITORIES = stressRepositories(10);

/** Parses `sweep --json` output, or undefined when the run printed no plan (it failed before). */
function parsePlan(stdout: string): Plan | undefined {
  return stdout.trimStart().startsWith('{') ? (JSON.parse(stdout) as Plan) : undefined;
}

describe('Sweep: 1,000 tags through a fault-injecting proxy', () => {
  let seedDir: string;
  let seeded: SeededSet;
  let kept: TagSnapshot;
  let policy: string;

  beforeAll(async () => {
    // Prepare once: 10 repositories × 100 tags, then stop the registry keeping its storage.
    ({ seedDir, seeded, kept, policy } = await seedStoppedStressSet(REPOSITORIES));
  }, 90_000);

  afterAll(async () => {
    if (seedDir) await removeStorageCopy(seedDir);
  });

  it('never loses a kept tag, reports every removal as done or failed, and a rerun converges', async () => {
    // Prepare: a copy of the seeded registry behind a proxy that hits every request with 503s,
    // 429s with Retry-After, connection resets (after the registry did the work), truncated
    // bodies and latency, and fails DELETEs often enough that some exhaust their retries.
    expect(countTags(seeded.tags)).toBe(1000);
    const storage = await copyStorage(seedDir);
    let registry: RegistryProcess | undefined;
    let proxy: FaultProxy | undefined;
    try {
      registry = await startRegistry({ storageDir: storage });
      proxy = await startFaultProxy(registry.url, {
        seed: 20_261_128,
        rate503: 0.02,
        rate429: 0.003,
        retryAfterSeconds: 1,
        resetRate: 0.02,
        truncateRate: 0.02,
        latencyMs: 1,
        overrides: [
          {
            match: ({ method }) => method === 'DELETE',
            rate503: 0.3,
            rate429: 0.003,
            resetRate: 0.05,
            truncateRate: 0.02,
          },
        ],
      });

      // Act
      const started = Date.now();
      const faulty = await runCli([
        'sweep',
        '--registry',
        proxy.url,
        '--policy',
        policy,
        '--json',
        '--concurrency',
        '16',
      ]);
      const faultySeconds = (Date.now() - started) / 1000;
      const afterFaults = await snapshotTags(registry.url, REPOSITORIES);

      // Assess: no kept tag lost or moved, and the kept index is whole.
      expect(lostTags(kept, afterFaults)).toEqual([]);
      for (const [repository, children] of seeded.indexChildren) {
        for (const child of children)
          expect(await headDigestRaw(registry.url, repository, child)).toBe(child);
      }
      // Every fault kind was injected.
      for (const fault of ['503', '429', 'reset', 'truncate'] as const)
        expect(proxy.counts[fault]).toBeGreaterThan(0);

      // Every planned removal is done (and gone) or reported failed, and exit 1 names the failures.
      const plan = parsePlan(faulty.stdout);
      const failed: string[] = [];
      if (plan) {
        expect(snapshotLines(keptByPlan(plan))).toEqual(snapshotLines(kept));
        for (const repository of plan.repositories) {
          for (const tag of repository.tags) {
            if (tag.action === 'keep') continue;
            const reference = `${repository.name}:${tag.tag}`;
            expect([reference, tag.result]).toEqual([
              reference,
              expect.stringMatching(/^(deleted|untagged|failed)$/),
            ]);
            if (tag.result === 'failed') {
              failed.push(reference);
              expect(tag.error).toEqual(expect.any(String));
            } else {
              expect([reference, afterFaults.get(repository.name)?.has(tag.tag)]).toEqual([reference, false]);
            }
          }
        }
        expect(faulty.status).toBe(failed.length > 0 ? 1 : 0);
        for (const reference of failed) expect(faulty.stderr).toContain(reference);
      } else {
        // The run stopped before removing (a read failed every retry): exit 1 with the reason.
        expect(faulty.status).toBe(1);
        expect(faulty.stderr).toMatch(/^regsweep: /);
      }

      // Act: the same sweep again, without faults.
      const rerun = await runCli(['sweep', '--registry', registry.url, '--policy', policy, '--json']);

      // Assess: exactly the keep set remains, at the original digests, and no manifest is left
      // behind but the kept ones and the kept index's children (no orphan placeholder).
      expect(rerun.stderr).toBe('');
      expect(rerun.status).toBe(0);
      const converged = await snapshotTags(registry.url, REPOSITORIES);
      expect(snapshotLines(converged)).toEqual(snapshotLines(kept));
      for (const repository of REPOSITORIES) {
        const expected = new Set([
          ...(kept.get(repository)?.values() ?? []),
          ...(seeded.indexChildren.get(repository) ?? []),
        ]);
        expect(manifestRevisions(storage, repository)).toEqual([...expected].sort());
      }
      recordMeasurement('faults', {
        tags: countTags(seeded.tags),
        injected: proxy.counts,
        requests: proxy.requests,
        faultyExit: faulty.status,
        failedRemovals: failed.length,
        faultySeconds,
        keptLost: lostTags(kept, afterFaults).length,
        converged: snapshotLines(converged).length === snapshotLines(kept).length,
      });
    } finally {
      await proxy?.stop();
      await registry?.stop();
      await removeStorageCopy(storage);
    }
  }, 150_000);
});
