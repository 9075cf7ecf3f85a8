import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pMap from 'p-map';

import type { Plan } from '../../../lambda/domain';
import { sweepRun } from '../../../lambda/engine';
import { compilePolicy } from '../../../lambda/policy';
import { RegistryClient } from '../../../lambda/registry';
import { runCli } from '../../helpers/cli';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy';
import { recordMeasurement } from '../../helpers/run-report';
import { lostTags, snapshotLines, snapshotTags, type TagSnapshot } from '../../helpers/stress-set';
import { pushImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

const DAY_MS = 86_400_000;
const BUILDS = 8;
const KEEP = 3;
/** Repositories read through 25% faults; `fi/broken` answers 503 to everything besides. */
const HEALTHY = Array.from({ length: 6 }, (_, index) => `fi/svc-${index}`);
const BROKEN = 'fi/broken';
const REPOSITORIES = [...HEALTHY, BROKEN];
const POLICY = {
  protect: ['latest', 'v\\d+\\.\\d+\\.\\d+'],
  rules: [{ name: 'builds', tags: 'build-\\d+', keep: KEEP }],
};

/** The tags the policy keeps: the newest KEEP builds, latest and the release. */
function keptByPolicy(tag: string): boolean {
  const build = /^build-(\d+)$/.exec(tag);
  return build ? Number(build[1]) > BUILDS - KEEP : true;
}

function subset(snapshot: TagSnapshot, keep: (tag: string) => boolean): TagSnapshot {
  return new Map(
    [...snapshot].map(([repository, tags]) => [repository, new Map([...tags].filter(([tag]) => keep(tag)))]),
  );
}

/**
 * What holds after a run through faults, whatever the fault sequence: every removal reported done
 * is gone, every failure is named (on `stderr` when given), a repository not read while planning
 * is untouched, and one read and cleaned without failure is at the policy's end state. Returns
 * the number of failed removals.
 */
function assessFaultyRun(
  plan: Plan,
  stderr: string | undefined,
  seeded: TagSnapshot,
  endState: TagSnapshot,
  afterFaults: TagSnapshot,
): number {
  const only = (snapshot: TagSnapshot, repository: string): string[] =>
    snapshotLines(new Map([[repository, snapshot.get(repository) ?? new Map()]]));
  expect(plan.repositories.map((repository) => repository.name)).toEqual([...REPOSITORIES].sort());
  expect(plan.summary.failedRepositories).toBe(
    plan.repositories.filter((repository) => repository.error !== undefined).length,
  );
  let failedRemovals = 0;
  for (const repository of plan.repositories) {
    const now = afterFaults.get(repository.name);
    if (repository.error !== undefined) {
      if (stderr !== undefined) expect(stderr).toContain(`  ${repository.name}: ${repository.error}`);
      if (repository.tags.length === 0)
        expect(only(afterFaults, repository.name)).toEqual(only(seeded, repository.name));
    }
    for (const tag of repository.tags) {
      const reference = `${repository.name}:${tag.tag}`;
      expect([reference, tag.action === 'keep']).toEqual([reference, keptByPolicy(tag.tag)]);
      if (tag.action === 'keep') continue;
      expect([reference, tag.result]).toEqual([
        reference,
        expect.stringMatching(/^(deleted|untagged|failed)$/),
      ]);
      if (tag.result === 'failed') {
        failedRemovals += 1;
        expect([reference, tag.error]).toEqual([reference, expect.any(String)]);
        if (stderr !== undefined) expect(stderr).toContain(`  ${reference}: ${tag.error}`);
      } else {
        // Reported done: gone from the registry.
        expect([reference, now?.has(tag.tag)]).toEqual([reference, false]);
      }
    }
    if (repository.error === undefined && repository.tags.every((tag) => tag.result !== 'failed'))
      expect(only(afterFaults, repository.name)).toEqual(only(endState, repository.name));
  }
  expect(plan.summary.failed).toBe(failedRemovals);
  return failedRemovals;
}

describe('Sweep: several repositories through 25% faults, one of them unreadable', () => {
  let registry: RegistryProcess;
  let proxy: FaultProxy | undefined;

  beforeEach(async () => {
    registry = await startRegistry();
    // Per repository: build-1 (oldest) .. build-8, latest on build-2's digest (so build-2 is
    // untagged, not deleted), and the release v1.0.0.
    const now = Date.now();
    const created = (n: number): string => new Date(now - (30 - n) * DAY_MS).toISOString();
    await pMap(
      REPOSITORIES,
      async (repository) => {
        for (let n = 1; n <= BUILDS; n += 1)
          await pushImage(registry.url, repository, `build-${n}`, { created: created(n) });
        await pushImage(registry.url, repository, 'latest', {
          created: created(2),
          seed: `${repository}:build-2`,
        });
        await pushImage(registry.url, repository, 'v1.0.0', { created: created(0) });
      },
      { concurrency: 4 },
    );
  });

  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
    await registry.stop();
  });

  it('loses no kept tag, names the repositories it could not read, cleans the others; a rerun converges', async () => {
    // Prepare: a seeded fault sequence, 25% of answers (503, 429, resets after the registry did
    // the work, truncated bodies); every request of fi/broken answered 503.
    const seeded = await snapshotTags(registry.url, REPOSITORIES);
    const endState = subset(seeded, keptByPolicy);
    proxy = await startFaultProxy(registry.url, {
      seed: 20_261_202,
      rate503: 0.0625,
      rate429: 0.0625,
      retryAfterSeconds: 0,
      resetRate: 0.0625,
      truncateRate: 0.0625,
      overrides: [{ match: ({ path }) => path.startsWith(`/v2/${BROKEN}/`), rate503: 1 }],
    });
    const file = join(mkdtempSync(join(tmpdir(), 'regsweep-policy-')), 'policy.json');
    writeFileSync(file, JSON.stringify(POLICY));
    const selection = REPOSITORIES.flatMap((repository) => ['--repository', repository]);

    // Act
    const started = Date.now();
    const faulty = await runCli(['sweep', '--registry', proxy.url, '--policy', file, '--json', ...selection]);
    const faultySeconds = (Date.now() - started) / 1000;
    const afterFaults = await snapshotTags(registry.url, REPOSITORIES);

    // Assess: no kept tag lost or moved, whatever the faults hit.
    expect(lostTags(endState, afterFaults)).toEqual([]);

    // The run is incomplete (fi/broken at least): exit 1, and a plan of every repository.
    expect(faulty.status).toBe(1);
    const plan = JSON.parse(faulty.stdout) as Plan;
    const failedRepositories = plan.repositories.filter((repository) => repository.error !== undefined);
    expect(failedRepositories.map((repository) => repository.name)).toContain(BROKEN);
    for (const fault of ['503', '429', 'reset', 'truncate'] as const)
      expect(proxy.counts[fault]).toBeGreaterThan(0);
    const failedRemovals = assessFaultyRun(plan, faulty.stderr, seeded, endState, afterFaults);

    // Act: the same sweep again, without faults.
    const rerun = await runCli([
      'sweep',
      '--registry',
      registry.url,
      '--policy',
      file,
      '--json',
      ...selection,
    ]);

    // Assess: exit 0, and every repository at the policy's end state.
    expect(rerun.stderr).toBe('');
    expect(rerun.status).toBe(0);
    expect((JSON.parse(rerun.stdout) as Plan).summary).toMatchObject({ failed: 0, failedRepositories: 0 });
    const converged = await snapshotTags(registry.url, REPOSITORIES);
    expect(snapshotLines(converged)).toEqual(snapshotLines(endState));

    recordMeasurement('faults-isolation', {
      repositories: REPOSITORIES.length,
      tags: snapshotLines(seeded).length,
      requests: proxy.requests,
      injected: proxy.counts,
      failedRepositories: failedRepositories.map((repository) => repository.name),
      failedRemovals,
      faultyExit: faulty.status,
      faultySeconds,
      rerunExit: rerun.status,
      keptLost: lostTags(endState, afterFaults).length,
      converged: snapshotLines(converged).length === snapshotLines(endState).length,
    });
  }, 120_000);
  it('with two retries per request, fails repositories at random and still loses nothing', async () => {
    // Prepare: the same 25% faults, no repository broken on purpose, but a client that retries
    // each request twice: reads fail after retries often enough to fail repositories at random.
    const seeded = await snapshotTags(registry.url, REPOSITORIES);
    const endState = subset(seeded, keptByPolicy);
    proxy = await startFaultProxy(registry.url, {
      seed: 7_202_612,
      rate503: 0.0625,
      rate429: 0.0625,
      retryAfterSeconds: 0,
      resetRate: 0.0625,
      truncateRate: 0.0625,
    });
    const policy = compilePolicy(POLICY);
    const client = new RegistryClient({ registry: proxy.url, retry: { maxRetries: 2, minDelayMs: 1 } });

    // Act
    let plan: Plan;
    try {
      plan = await sweepRun({ client, policy, repositories: REPOSITORIES });
    } finally {
      await client.close();
    }
    const afterFaults = await snapshotTags(registry.url, REPOSITORIES);

    // Assess
    expect(lostTags(endState, afterFaults)).toEqual([]);
    const failedRemovals = assessFaultyRun(plan, undefined, seeded, endState, afterFaults);

    // Act: again without faults.
    const clean = new RegistryClient({ registry: registry.url });
    let rerun: Plan;
    try {
      rerun = await sweepRun({ client: clean, policy, repositories: REPOSITORIES });
    } finally {
      await clean.close();
    }

    // Assess
    expect(rerun.summary).toMatchObject({ failed: 0, failedRepositories: 0 });
    const converged = await snapshotTags(registry.url, REPOSITORIES);
    expect(snapshotLines(converged)).toEqual(snapshotLines(endState));
    recordMeasurement('faults-isolation-two-retries', {
      repositories: REPOSITORIES.length,
      tags: snapshotLines(seeded).length,
      requests: proxy.requests,
      injected: proxy.counts,
      failedRepositories: plan.repositories.filter((r) => r.error !== undefined).map((r) => r.name),
      failedRemovals,
      keptLost: lostTags(endState, afterFaults).length,
      converged: snapshotLines(converged).length === snapshotLines(endState).length,
    });
  }, 120_000);
});
