import { spawn, type ChildProcess } from 'node:child_process';

import type { Digest } from '../../../lambda/domain';
import { CLI_PATH, runCli } from '../../helpers/cli';
import { mulberry32 } from '../../helpers/fault-proxy';
import { startGateProxy, type GatedRequest } from '../../helpers/gate-proxy';
import { startRegistry, type RegistryProcess } from '../../helpers/registry-process';
import { recordMeasurement } from '../../helpers/run-report';
import {
  copyStorage,
  keptSubset,
  lostTags,
  removeStorageCopy,
  seedStressSet,
  snapshotLines,
  snapshotTags,
  stressRepositories,
  writeStressPolicy,
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
    const seeding = await startRegistry();
    seeded = await seedStressSet(seeding.url, REPOSITORIES);
    await seeding.stop({ keepStorage: true });
    seedDir = seeding.storageDir;
    kept = keptSubset(seeded.tags);
    policy = writeStressPolicy();
  }, 120_000);

  afterAll(async () => {
    if (seedDir) await removeStorageCopy(seedDir);
  });

  /** A registry on a fresh copy of the seeded storage. */
  async function freshRegistry(): Promise<RegistryProcess> {
    storage = await copyStorage(seedDir);
    registry = await startRegistry({ storageDir: storage });
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
    // Each case kills the CLI at a point of the removal phase drawn from a seed, or in the middle
    // of an untag (the tag re-pointed at its placeholder, the placeholder not yet deleted).
    const cases: Array<[string, (request: GatedRequest) => boolean]> = [11, 23, 47].map((seed) => {
      const killAt = 1 + Math.floor(mulberry32(seed)() * 55);
      let deletes = 0;
      return [
        `at digest delete #${killAt} (seed ${seed})`,
        (request: GatedRequest) => isDigestDelete(request) && ++deletes === killAt,
      ];
    });
    let pushedPlaceholder = false;
    cases.push([
      'between pushing an untag placeholder and deleting it',
      (request) => {
        if (request.method === 'PUT' && /\/manifests\/(?!sha256:)/.test(request.path))
          pushedPlaceholder = true;
        return pushedPlaceholder && isDigestDelete(request);
      },
    ]);

    it.each(cases)('%s: nothing kept is lost, and a rerun converges', async (_name, killHere) => {
      // Prepare
      const { url } = await freshRegistry();
      const repositories = [REPOSITORIES[0] as string];
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
        const interrupted = await snapshotTags(url, REPOSITORIES);
        const rerun = await runCli([
          'sweep',
          '--registry',
          url,
          '--policy',
          policy,
          '--repository',
          repositories[0] as string,
        ]);

        // Assess
        expect(ended.signal).toBe('SIGKILL');
        expect(lostTags(kept, interrupted)).toEqual([]);
        expect(rerun.stderr).toBe('');
        expect(rerun.status).toBe(0);
        await expectConverged(url, repositories);
        recordMeasurement('sigkill', { case: _name, requestsBeforeKill: proxy.requests, keptLost: 0 });
      } finally {
        sweep?.child.kill('SIGKILL');
        await proxy.stop();
      }
    });
  });
});
