import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Children and temp dirs still alive when the process (a jest worker, the demo, the bench)
// exits are cleaned up synchronously: a leaked registry would hold its port and storage.
const liveChildren = new Set<ChildProcess>();
const liveTempDirs = new Set<string>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
  for (const dir of liveTempDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Kills `child` when this process exits, unless it exited first. Under jest the worker does not
 * always see its own 'exit', so the child is also recorded in the run's directory (see
 * test/global-setup.js), where the global teardown finds and kills what is still running.
 */
export function killOnExit(child: ChildProcess): void {
  liveChildren.add(child);
  const record = recordChild(child);
  child.once('exit', () => {
    liveChildren.delete(child);
    if (record) rmSync(record, { force: true });
  });
}

/** `<run dir>/children/<pid>`, holding the child's command line; undefined outside a jest run. */
function recordChild(child: ChildProcess): string | undefined {
  const runDir = process.env.REGSWEEP_TEST_RUN_DIR;
  if (!runDir || child.pid === undefined) return undefined;
  const dir = join(runDir, 'children');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, String(child.pid));
  writeFileSync(file, child.spawnargs.join('\0'));
  return file;
}

/** A new temp dir that is removed when this process exits, if `removeTempDir` did not run. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  liveTempDirs.add(dir);
  return dir;
}

/** Removes a temp dir now. */
export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  liveTempDirs.delete(dir);
}
