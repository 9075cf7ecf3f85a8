import { execFile, execFileSync } from 'node:child_process';

import { parseTimes } from './baseline';
import { bundleChild } from './child-bundle';
import { onCpu } from './pinning';
import type { RegistryCliShapedRun } from './registry-cli-shaped';
import { elapsedMs } from '../stats';

/** Either client on 600 tags takes a few seconds; this only stops a hang. */
const CLIENT_TIMEOUT_MS = 600_000;

/** One run of a client that is not regsweep's CLI. */
export interface ClientRun {
  readonly wallMs: number;
  /** User + system CPU of the client's process (and its children). */
  readonly cpuSeconds: number;
}

/**
 * The registry-cli-shaped loop in its own Node process (an esbuild bundle of
 * registry-cli-shaped-child.ts), optionally under `taskset -c`. Its wall time is the loop's own,
 * measured in the child around the requests (no Node start-up: the baseline's best case).
 */
export class ShapedLoopProcess {
  private constructor(private readonly bundle: string) {}

  /** Bundles the child into `dir`. */
  public static async create(dir: string): Promise<ShapedLoopProcess> {
    return new ShapedLoopProcess(await bundleChild('registry-cli-shaped-child', dir));
  }

  /** Runs the loop over the removals of the plan in `planFile`. */
  public async run(
    registry: string,
    planFile: string,
    cpu: number | undefined,
  ): Promise<ClientRun & { readonly loop: RegistryCliShapedRun }> {
    const [command, args] = onCpu(cpu, process.execPath, [this.bundle, registry, planFile]);
    const stdout = await execute(command, args);
    const { run, cpuSeconds } = JSON.parse(stdout) as { run: RegistryCliShapedRun; cpuSeconds: number };
    return { wallMs: run.wallMs, cpuSeconds, loop: run };
  }
}

/** The Python interpreter behind `python3` on PATH (not a pyenv shim: its start-up would count). */
export function pythonExecutable(): string {
  return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
}

/**
 * The real registry-cli (`python3 registry.py -r URL --delete --num KEEP`, its stdout thrown
 * away), optionally under `taskset -c`. Wall time is spawn to exit (interpreter start-up
 * included, as for regsweep's CLI); CPU is what bash's `times` reports for its children.
 */
export async function runRegistryCliReal(
  python: string,
  script: string,
  registry: string,
  keep: number,
  cpu: number | undefined,
): Promise<ClientRun> {
  const [command, args] = onCpu(cpu, python, [script, '-r', registry, '--delete', '--num', String(keep)]);
  const started = performance.now();
  const times = await execute('bash', ['-c', '"$@" > /dev/null || exit $?; times', 'bash', command, ...args]);
  return { wallMs: elapsedMs(started), cpuSeconds: parseTimes(times) };
}

function execute(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: CLIENT_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`${command} ${args.join(' ')}: ${error.message}\n${stderr.slice(-2000)}`));
        else resolve(stdout);
      },
    );
  });
}
