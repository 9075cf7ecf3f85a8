import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { startRegistry, type RegistryProcess } from '../tools/registry-process';
import { seedRegistry, type SeedResult } from './seed/seeder';
import type { SeedRepository } from './seed/scenario';
import { findPid, processCpuSeconds } from './system';

const run = promisify(execFile);

// Seeded storage still on disk (or in memory, on tmpfs) when the process exits is removed then.
const liveRoots = new Set<string>();
process.once('exit', () => {
  for (const root of liveRoots) rmSync(root, { recursive: true, force: true });
});
/** Copying a few tens of thousands of small files; generous for a loaded disk. */
const COPY_TIMEOUT_MS = 120_000;

/** A registry serving a fresh copy of the seeded storage. */
export interface TrialRegistry {
  readonly url: string;
  /** The registry process (undefined when it was not found in /proc). */
  readonly pid: number | undefined;
  /** CPU seconds the registry process has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/**
 * Seeds once, then serves copies: every trial starts from the same bytes (`cp -a` of the seeded
 * storage directory), which is both the fastest and the fairest way to re-seed.
 */
export class SeededStorage {
  private constructor(
    private readonly root: string,
    private readonly snapshot: string,
    public readonly seed: SeedResult,
    /** When the images' ages were computed from; plans are stable for hours after it. */
    public readonly seedTimeMs: number,
  ) {}

  /** Seeds `repositories` into a new registry whose storage lives under `storageRoot`. */
  public static async create(
    repositories: readonly SeedRepository[],
    storageRoot: string = defaultStorageRoot(),
  ): Promise<SeededStorage> {
    const root = mkdtempSync(join(storageRoot, 'regsweep-bench-'));
    liveRoots.add(root);
    const snapshot = join(root, 'snapshot');
    const seedTimeMs = Date.now();
    try {
      const registry = await startRegistry({ storageDir: snapshot });
      try {
        const seed = await seedRegistry(registry.url, repositories, seedTimeMs);
        return new SeededStorage(root, snapshot, seed, seedTimeMs);
      } finally {
        await registry.stop();
      }
    } catch (error) {
      await rm(root, { recursive: true, force: true });
      liveRoots.delete(root);
      throw error;
    }
  }

  /** Starts a registry on a fresh copy of the seeded storage. */
  public async trial(): Promise<TrialRegistry> {
    const storage = mkdtempSync(join(this.root, 'trial-'));
    await rm(storage, { recursive: true });
    await run('cp', ['-a', this.snapshot, storage], { timeout: COPY_TIMEOUT_MS });
    let registry: RegistryProcess;
    try {
      registry = await startRegistry({ storageDir: storage });
    } catch (error) {
      await rm(storage, { recursive: true, force: true });
      throw error;
    }
    const pid = findPid(registry.configPath);
    return {
      url: registry.url,
      pid,
      cpuSeconds: () => (pid === undefined ? Number.NaN : processCpuSeconds(pid)),
      stop: async () => {
        await registry.stop();
        await rm(storage, { recursive: true, force: true });
      },
    };
  }

  /** Runs `work` on a registry serving a fresh copy, and stops that registry afterwards. */
  public async withTrial<T>(work: (registry: TrialRegistry) => Promise<T>): Promise<T> {
    const registry = await this.trial();
    try {
      return await work(registry);
    } finally {
      await registry.stop();
    }
  }

  public async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
    liveRoots.delete(this.root);
  }
}

/** tmpfs when there is one (less noise from a disk that other jobs share), else the temp dir. */
export function defaultStorageRoot(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}
