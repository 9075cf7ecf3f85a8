import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { bundleChild } from './child-bundle';

/** One synthetic inventory planned in a fresh process. */
export interface PlannerRun {
  readonly shape: 'multi-repository' | 'one repository';
  readonly tags: number;
  readonly repositories: number;
  readonly removed: number;
  readonly buildMs: number;
  readonly planMs: number;
  /** RSS with the inventory built, before planning. */
  readonly rssBeforeMiB: number;
  /** Peak RSS of the process (inventory + plan). */
  readonly maxRssMiB: number;
  readonly heapUsedMiB: number;
}

const PLANNER_TIMEOUT_MS = 180_000;

/**
 * Plans synthetic inventories of each size in fresh Node processes (clean memory numbers): the
 * multi-repository shape (`perRepository` tags each) and, for comparison, one repository holding
 * every tag (the planner sorts per repository, so this is its worst case).
 */
export async function measurePlanner(sizes: readonly number[], perRepository: number): Promise<PlannerRun[]> {
  const dir = mkdtempSync(join(tmpdir(), 'regsweep-bench-planner-'));
  try {
    const bundle = await bundleChild('planner-child', dir);
    const runs: PlannerRun[] = [];
    for (const [shape, tagsPerRepository] of [
      ['multi-repository', perRepository],
      ['one repository', Number.MAX_SAFE_INTEGER],
    ] as const) {
      for (const tags of sizes) {
        const output = await new Promise<string>((resolve, reject) => {
          execFile(
            process.execPath,
            [bundle, '--tags', String(tags), '--per-repository', String(Math.min(tags, tagsPerRepository))],
            { timeout: PLANNER_TIMEOUT_MS, maxBuffer: 1024 * 1024 },
            (error, stdout) => (error ? reject(error) : resolve(stdout)),
          );
        });
        runs.push({ shape, ...(JSON.parse(output) as Omit<PlannerRun, 'shape'>) });
      }
    }
    return runs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
