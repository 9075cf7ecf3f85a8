import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Plan } from '../../lambda/domain';
import { BENCH_ROOT } from '../options';
import { elapsedMs } from '../stats';

/** The baseline script: bench/baseline.sh. */
export const BASELINE_SCRIPT = join(BENCH_ROOT, 'baseline.sh');
/** Sequential curl at a few tens of ms a tag: 20 minutes is far beyond any default run. */
const BASELINE_TIMEOUT_MS = 20 * 60_000;

/** What the curl loop did, by its own account. */
export interface BaselineRun {
  readonly tags: number;
  readonly wallMs: number;
  /** CPU seconds of the loop's shells and curl processes. */
  readonly cpuSeconds: number;
  /** DELETE answered 202. */
  readonly accepted: number;
  /** The HEAD gave no digest (an OCI image or index without its media type in Accept). */
  readonly noDigest: number;
  /** Any other DELETE answer (404 for a digest already deleted with another tag, ...). */
  readonly refused: number;
}

/**
 * Runs bench/baseline.sh over exactly the tags the plan removes (`delete` and `untag`), in plan
 * order, sequentially, as users run it; the registry is fresh from the same seed.
 */
export async function runBaseline(registry: string, plan: Plan): Promise<BaselineRun> {
  const dir = mkdtempSync(join(tmpdir(), 'regsweep-bench-baseline-'));
  try {
    const list = join(dir, 'tags.txt');
    const log = join(dir, 'log.txt');
    const lines = plan.repositories.flatMap((repository) =>
      repository.tags.filter((tag) => tag.action !== 'keep').map((tag) => `${repository.name} ${tag.tag}`),
    );
    writeFileSync(list, `${lines.join('\n')}\n`);
    const started = performance.now();
    // `times` prints the wrapper's own and its children's CPU: the inner loop and every curl.
    const timesOutput = await new Promise<string>((resolve, reject) => {
      execFile(
        'bash',
        ['-c', 'bash "$0" "$1" < "$2" > "$3" && times', BASELINE_SCRIPT, registry, list, log],
        { timeout: BASELINE_TIMEOUT_MS },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      );
    });
    const wallMs = elapsedMs(started);
    const outcomes = readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' '));
    return {
      tags: lines.length,
      wallMs,
      cpuSeconds: parseTimes(timesOutput),
      accepted: outcomes.filter(([, , , status]) => status === '202').length,
      noDigest: outcomes.filter(([, , digest]) => digest === '-').length,
      refused: outcomes.filter(([, , digest, status]) => digest !== '-' && status !== '202').length,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sums every `XmY.Zs` figure of bash's `times` output (shell and children, user and system). */
export function parseTimes(output: string): number {
  let seconds = 0;
  for (const match of output.matchAll(/(\d+)m([\d.]+)s/g))
    seconds += Number(match[1]) * 60 + Number(match[2]);
  return seconds;
}
