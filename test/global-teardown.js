// After the suite: kills the child processes (registries) that tests started and left running,
// then removes the run's temp directory (see global-setup.js), whatever the tests left in it.
const { existsSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');

/** Kills each recorded child whose pid still runs the recorded command (not a reused pid). */
function killLeftoverChildren(runDir) {
  const dir = join(runDir, 'children');
  if (!existsSync(dir)) return [];
  const killed = [];
  for (const pid of readdirSync(dir)) {
    const recorded = readFileSync(join(dir, pid), 'utf8');
    let running;
    try {
      running = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '');
    } catch {
      continue; // gone already
    }
    if (running !== recorded) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
      killed.push(`${pid} ${recorded.split('\0').join(' ')}`);
    } catch {
      // exited in between
    }
  }
  return killed;
}

module.exports = async () => {
  const runDir = process.env.REGSWEEP_TEST_RUN_DIR;
  if (!runDir) return;
  const killed = killLeftoverChildren(runDir);
  if (killed.length > 0)
    process.stderr.write(
      `global teardown: killed ${killed.length} child process(es) tests left running:\n  ${killed.join('\n  ')}\n`,
    );
  rmSync(runDir, { recursive: true, force: true });
};
