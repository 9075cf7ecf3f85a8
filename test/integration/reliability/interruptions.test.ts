import { spawn, type ChildProcess } from 'node:child_process';

import type { Digest, Plan } from '../../../lambda/domain';
import { CLI_PATH, runCli } from '../../helpers/cli';
import { mulberry32 } from '../../helpers/fault-proxy';
import { startGateProxy, type GatedRequest } from '../../helpers/gate-proxy';
import { pushImage, retag } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';
import { recordMeasurement } from '../../helpers/run-report';
import {
  copyStorage,
  DANGLING,
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

const REPOSITORIES = stressRepositories(3);

/** The part of a snapshot for some repositories only. */
function only(snapshot: TagSnapshot, repositories: readonly string[]): TagSnapshot {
  return new Map([...snapshot].filter(([repository]) => repositories.includes(repository)));
}

/** Starts `regsweep sweep` against `registryUrl`; resolves with how it ended. */
function spawnSweep(
  registryUrl: string,
  policy: string,
  repositories: readonly string[],
): { child: ChildProcess; ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(
    process.execPath,
    [
      CLI_PATH,
      'sweep',
      '--registry',
      registryUrl,
      '--policy',
      policy,
      '--json',
      ...repositories.flatMap((name) => ['--repository', name]),
    ],
    { env: { PATH: process.env.PATH ?? '' }, stdio: 'ignore' },
  );
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, ended };
}

/** `DELETE /v2/<repository>/manifests/sha256:...` */
const isDigestDelete = ({ method, path }: GatedRequest): boolean =>
  method === 'DELETE' && /\/manifests\/sha256:/.test(path);

describe('Sweep: interrupted, raced and restarted', () => {
  let seedDir: string;
  let seeded: SeededSet;
  let kept: TagSnapshot;
  let policy: string;
  let storage: string | undefined;
  let registry: RegistryProcess | undefined;

  beforeAll(async () => {
    ({ seedDir, seeded, kept, policy } = await seedStoppedStressSet(REPOSITORIES));
  }, 120_000);

  afterAll(async () => {
    if (seedDir) await removeStorageCopy(seedDir);
  });

  /** A registry on a fresh copy of the seeded storage. */
  async function freshRegistry(): Promise<RegistryProcess> {
    storage = await copyStorage(seedDir);
    registry = await startRegistry({ storageDir: storage, drainTimeout: '5s' });
    return registry;
  }

  afterEach(async () => {
    await registry?.stop();
    if (storage) await removeStorageCopy(storage);
    registry = undefined;
    storage = undefined;
  });

  /** The rerun converges: exactly the kept tags of `repositories` remain, no manifest is left over. */
  async function expectConverged(url: string, repositories: readonly string[]): Promise<void> {
    const now = await snapshotTags(url, REPOSITORIES);
    const expected = new Map([...seeded.tags, ...only(kept, repositories)]);
    expect(snapshotLines(now)).toEqual(snapshotLines(expected));
    for (const repository of repositories) {
      const digests = new Set<Digest>([
        ...(kept.get(repository)?.values() ?? []),
        ...(seeded.indexChildren.get(repository) ?? []),
      ]);
      expect(manifestRevisions(storage as string, repository)).toEqual([...digests].sort());
    }
  }

  describe('killed with SIGKILL', () => {
    it('loses nothing kept at any of several kill points in a row, and a rerun converges', async () => {
      // Prepare: each run is killed at a point drawn from a seed (the n-th digest DELETE of that
      // run), the last one in the middle of an untag (its tag re-pointed at the placeholder, the
      // placeholder not deleted). Each run starts where the killed one left off.
      const { url } = await freshRegistry();
      const repositories = REPOSITORIES.slice(0, 2);
      const killPoints: Array<[string, () => (request: GatedRequest) => boolean]> = [11, 23, 47].map(
        (seed) => {
          const killAt = 1 + Math.floor(mulberry32(seed)() * 40);
          return [
            `digest delete #${killAt} (seed ${seed})`,
            () => {
              let deletes = 0;
              return (request) => isDigestDelete(request) && ++deletes === killAt;
            },
          ];
        },
      );
      killPoints.push([
        'between an untag placeholder push and its delete',
        () => {
          let pushedPlaceholder = false;
          return (request) => {
            if (request.method === 'PUT' && /\/manifests\/(?!sha256:)/.test(request.path))
              pushedPlaceholder = true;
            return pushedPlaceholder && isDigestDelete(request);
          };
        },
      ]);

      for (const [point, killer] of killPoints) {
        const killHere = killer();
        let sweep: ReturnType<typeof spawnSweep> | undefined;
        let killed = false;
        const proxy = await startGateProxy(url, (request) => {
          if (killed || !killHere(request)) return;
          killed = true;
          sweep?.child.kill('SIGKILL');
          // The request dies with the client: the registry never sees it.
          throw new Error('the client was killed');
        });
        try {
          // Act
          sweep = spawnSweep(proxy.url, policy, repositories);
          const ended = await sweep.ended;

          // Assess
          expect([point, ended.signal]).toEqual([point, 'SIGKILL']);
          expect([point, lostTags(only(kept, repositories), await snapshotTags(url, repositories))]).toEqual([
            point,
            [],
          ]);
          recordMeasurement('sigkill', { point, requestsBeforeKill: proxy.requests, keptLost: 0 });
        } finally {
          sweep?.child.kill('SIGKILL');
          await proxy.stop();
        }
      }

      // Act: run it again, to the end.
      const rerun = await runCli([
        'sweep',
        '--registry',
        url,
        '--policy',
        policy,
        ...repositories.flatMap((name) => ['--repository', name]),
      ]);

      // Assess
      expect(rerun.stderr).toBe('');
      expect(rerun.status).toBe(0);
      await expectConverged(url, repositories);
    });
  });

  describe('with a concurrent writer', () => {
    it('removes no tag pushed or moved after planning once the sweep reaches it', async () => {
      // Prepare: the writer acts when the sweep starts untagging in the first repository (every
      // request waits meanwhile): it moves a tag whose untag comes later there, and in the next
      // repository (not re-read yet) it moves tags, points new and kept tags at digests the plan
      // deletes, and pushes a new tag. Another writer keeps pushing new tags all along.
      const { url } = await freshRegistry();
      const [first, second, third] = REPOSITORIES as [string, string, string];
      const seededDigest = (repository: string, tag: string): Digest => {
        const digest = seeded.tags.get(repository)?.get(tag);
        if (!digest) throw new Error(`${repository}:${tag} was not seeded`);
        return digest;
      };
      const written = new Map<string, Digest>();
      const push = async (repository: string, tag: string): Promise<void> => {
        const image = await pushImage(url, repository, tag, {
          seed: `writer:${repository}:${tag}`,
          created: new Date().toISOString(),
        });
        written.set(`${repository}:${tag}`, image.digest);
      };
      const point = async (repository: string, tag: string, at: string): Promise<void> => {
        await retag(url, repository, tag, seededDigest(repository, at));
        written.set(`${repository}:${tag}`, seededDigest(repository, at));
      };
      const write = async (): Promise<void> => {
        await push(first, 'main-2'); // its untag comes after develop-3's
        await point(second, 'hotfix', 'main-10'); // a new tag on a digest the plan deletes
        await point(second, 'feature-1', 'main-11'); // a kept tag moved onto one
        await push(second, 'main-12'); // a tag the plan deletes, moved
        await push(second, 'develop-3'); // a tag the plan untags, moved
        await push(second, 'main-99'); // a new tag
      };
      let writing: Promise<void> | undefined;
      const proxy = await startGateProxy(url, async (request) => {
        const untagging =
          request.method === 'DELETE' &&
          request.path.startsWith(`/v2/${first}/manifests/`) &&
          !request.path.includes('/manifests/sha256:');
        if (untagging) writing ??= write();
        await writing;
      });
      let sweeping = true;
      const background = (async () => {
        for (let n = 1; n <= 40 && sweeping; n += 1) {
          await push(n % 2 === 0 ? second : third, `wip-${n}`);
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      })();

      try {
        // Act
        const result = await runCli(['sweep', '--registry', proxy.url, '--policy', policy, '--json']);
        sweeping = false;
        await background;

        // Assess: every write survived, at the digest written; the kept tags the writer did not
        // touch are intact; what changed after planning is reported skipped.
        expect(writing).toBeDefined();
        const now = await snapshotTags(url, REPOSITORIES);
        const changed = [...written].filter(([reference, digest]) => {
          const [repository, tag] = reference.split(':') as [string, string];
          return now.get(repository)?.get(tag) !== digest;
        });
        expect(changed).toEqual([]);
        const untouched = new Map(
          [...kept].map(([repository, tags]) => [
            repository,
            new Map([...tags].filter(([tag]) => !written.has(`${repository}:${tag}`))),
          ]),
        );
        expect(lostTags(untouched, now)).toEqual([]);
        const plan = JSON.parse(result.stdout) as Plan;
        const resultOf = (repository: string, tag: string) =>
          plan.repositories
            .find((entry) => entry.name === repository)
            ?.tags.find((entry) => entry.tag === tag)?.result;
        expect(
          [first, second].flatMap((repository) =>
            ['main-2', 'main-10', 'main-11', 'main-12', 'develop-3'].map(
              (tag) => `${repository}:${tag}=${resultOf(repository, tag)}`,
            ),
          ),
        ).toEqual([
          `${first}:main-2=skipped-changed`,
          `${first}:main-10=deleted`,
          `${first}:main-11=deleted`,
          `${first}:main-12=deleted`,
          `${first}:develop-3=untagged`,
          `${second}:main-2=untagged`,
          `${second}:main-10=skipped-changed`,
          `${second}:main-11=skipped-changed`,
          `${second}:main-12=skipped-changed`,
          `${second}:develop-3=skipped-changed`,
        ]);
        // distribution 2.8 can fail a digest DELETE (500) that races a push into the same
        // repository, after removing the manifest: the sweep clears the tags this leaves
        // dangling, and reports failed only what it could not finish.
        expect(snapshotLines(now).filter((line) => line.endsWith(`@${DANGLING}`))).toEqual([]);
        expect(result.status).toBe(plan.summary.failed > 0 ? 1 : 0);
        recordMeasurement('writer', {
          writes: written.size,
          exit: result.status,
          failed: plan.repositories.flatMap((entry) =>
            entry.tags
              .filter((tag) => tag.result === 'failed')
              .map((tag) => `${entry.name}:${tag.tag}: ${tag.error}`),
          ),
          skipped: plan.repositories
            .flatMap((entry) => entry.tags)
            .filter((tag) => tag.result === 'skipped-changed').length,
        });
      } finally {
        sweeping = false;
        await background.catch(() => undefined);
        await proxy.stop();
      }
    });
  });

  describe('when the registry restarts mid-sweep', () => {
    it('stops with exit 1, says what was done and why it stopped, and a rerun converges', async () => {
      // Prepare
      const started = await freshRegistry();
      const repositories = REPOSITORIES.slice(0, 2);
      const selection = repositories.flatMap((name) => ['--repository', name]);
      const [first] = repositories as [string];

      // Act: at the fifth removal in the first repository (a barrier: that request is held), stop
      // the registry (it finishes the requests in flight) and the proxy the sweep talks to, so the
      // sweep finds nothing listening any more; once it gave up, start the registry again on the
      // same port and storage.
      // One request at a time: with removals side by side, a stop can leave a tag listed with no
      // link at all (seen once in CI), a state planned and cleared as dangling since, but not the
      // subject of this test; here only the restart may interrupt a removal.
      let removals = 0;
      let stopped: Promise<void> | undefined;
      const proxy = await startGateProxy(started.url, async (request) => {
        if (request.method !== 'DELETE' || !request.path.startsWith(`/v2/${first}/manifests/`)) return;
        removals += 1;
        if (removals === 5) {
          stopped = (async () => {
            await started.stop({ keepStorage: true });
            await proxy.stop();
          })();
        }
        await stopped;
      });
      const result = await runCli([
        'sweep',
        '--registry',
        proxy.url,
        '--policy',
        policy,
        '--json',
        '--concurrency',
        '1',
        ...selection,
      ]);
      const stoppedEarly = stopped !== undefined;
      registry = await startRegistry({
        storageDir: storage as string,
        port: started.port,
        drainTimeout: '5s',
      });
      const afterRestart = await snapshotTags(registry.url, repositories);

      // Assess: the run stopped, said why and what to do; every removal is done or failed.
      expect(stoppedEarly).toBe(true);
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(
        /^regsweep: the sweep stopped after \d+ removals?: cannot reach the registry at http:\/\/127\.0\.0\.1:\d+/,
      );
      expect(result.stderr).toContain('Run the sweep again to finish.');
      const plan = JSON.parse(result.stdout) as Plan;
      const done = plan.repositories.flatMap((entry) =>
        entry.tags
          .filter((tag) => tag.result === 'deleted' || tag.result === 'untagged')
          .map((tag) => `${entry.name}:${tag.tag}`),
      );
      const failed = plan.repositories.flatMap((entry) =>
        entry.tags.filter((tag) => tag.result === 'failed').map((tag) => `${entry.name}:${tag.tag}`),
      );
      expect(done.length).toBeGreaterThan(0);
      expect(failed.length).toBeGreaterThan(0);
      expect(done.length + failed.length).toBe(plan.summary.delete + plan.summary.untag);
      for (const reference of done) {
        const [repository, tag] = reference.split(':') as [string, string];
        expect([reference, afterRestart.get(repository)?.has(tag)]).toEqual([reference, false]);
      }
      expect(lostTags(only(kept, repositories), afterRestart)).toEqual([]);

      // Act: run it again.
      const rerun = await runCli([
        'sweep',
        '--registry',
        registry.url,
        '--policy',
        policy,
        '--json',
        ...selection,
      ]);

      // Assess
      expect(rerun.stderr).toBe('');
      expect(rerun.status).toBe(0);
      await expectConverged(registry.url, repositories);
      recordMeasurement('restart', {
        done: done.length,
        failed: failed.length,
        message: result.stderr.split('\n')[0],
      });
    });
  });
});
