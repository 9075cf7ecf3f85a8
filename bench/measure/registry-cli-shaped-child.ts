/*
 * Runs in its own Node process (bundled by bench/measure/side-by-side-clients.ts), so that the
 * pinned variant can put it on one CPU with `taskset -c` and its CPU time is its own: reads the
 * plan from the file named by argv[3], runs the registry-cli-shaped loop against argv[2] and
 * prints one JSON line, the loop's run and this process's CPU seconds.
 */
import { readFileSync } from 'node:fs';

import type { Plan } from '../../lambda/domain';
import { runRegistryCliShaped } from './registry-cli-shaped';

async function main(): Promise<void> {
  const [registry, planFile] = process.argv.slice(2);
  if (!registry || !planFile) throw new Error('usage: registry-cli-shaped-child REGISTRY PLAN_FILE');
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
  const run = await runRegistryCliShaped(registry, plan);
  const usage = process.resourceUsage();
  const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
  process.stdout.write(`${JSON.stringify({ run, cpuSeconds })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
