import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** The pinned variant: the registry on one core, the client on the other. */
export const REGISTRY_CPU = 0;
export const CLIENT_CPU = 1;

/** True when the pinned variant can run: two cores or more and `taskset` (util-linux) on PATH. */
export function canPin(): boolean {
  if (cpus().length < 2) return false;
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Pins every thread of a running process to one CPU (`taskset -a -p`: a Go registry has its
 * threads already; without `-a` only the main one would move). Threads it starts later inherit it.
 */
export function pinProcess(pid: number, cpu: number): void {
  execFileSync('taskset', ['-a', '-pc', String(cpu), String(pid)], { stdio: 'ignore' });
}

/** The command line that runs `command` on one CPU (`taskset -c`, which then execs it). */
export function onCpu(cpu: number | undefined, command: string, args: readonly string[]): [string, string[]] {
  return cpu === undefined ? [command, [...args]] : ['taskset', ['-c', String(cpu), command, ...args]];
}

/**
 * The CPUs each thread of a process may run on (`Cpus_allowed_list` of /proc/<pid>/task/*),
 * the distinct lists joined: `0` when every thread is pinned to CPU 0, `0-1` when none is pinned.
 */
export function affinityOf(pid: number): string {
  const lists = new Set<string>();
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
      const match = /^Cpus_allowed_list:\s*(\S+)/m.exec(status);
      if (match?.[1]) lists.add(match[1]);
    }
  } catch {
    // The process (or a thread) ended while it was read.
  }
  return lists.size === 0 ? 'unknown' : [...lists].sort().join(' / ');
}
