/*
 * The side-by-side section (issue 14): on its own seed (6 repositories × 100 tags, keep 5), the
 * registry-cli-shaped loop, the real registry-cli when given, and regsweep's sweep cold (order
 * `natural`, then `created`) and warm (a ledger filled by a plan first), each on a fresh copy of
 * the seed, repeated, unpinned and pinned (registry on one CPU, client on the other).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Plan, PlanSummary } from '../../lambda/domain';
import type { BenchOptions } from '../options';
import { SeededStorage } from '../registry-trials';
import {
  sideBySidePolicy,
  sideBySideSeed,
  SIDE_BY_SIDE_KEEP,
  type SideBySideOrder,
} from '../seed/side-by-side';
import { runCli } from './cli';
import { checkEndState } from './end-state';
import { affinityOf, canPin, CLIENT_CPU, pinProcess, REGISTRY_CPU } from './pinning';
import {
  pythonExecutable,
  runRegistryCliReal,
  ShapedLoopProcess,
  type ClientRun,
} from './side-by-side-clients';
import {
  REGSWEEP_TOOLS,
  summarizeSideRuns,
  type SideRun,
  type SideSummary,
  type SideTool,
} from './side-by-side-summary';

export interface SideBySideOptions {
  readonly repositories: number;
  readonly tagsPerRepository: number;
  /** Trials of each tool (and pinning); medians are reported. */
  readonly repeats: number;
  /** Also run the pinned variant (when the machine has 2 cores and taskset). */
  readonly pin: boolean;
  /** registry-cli's registry.py, run with python3; absent: not run. */
  readonly registryCli?: string;
  /** For the end-state check. */
  readonly concurrency: number;
  readonly storageRoot: string;
}

/** The section's options, from the bench's. */
export function sideBySideOptions(options: BenchOptions, storageRoot: string): SideBySideOptions {
  return {
    repositories: options.sideRepositories,
    tagsPerRepository: options.sideTagsPerRepository,
    repeats: options.sideRepeats,
    pin: options.pin,
    ...(options.registryCli !== undefined && { registryCli: options.registryCli }),
    concurrency: options.concurrency,
    storageRoot,
  };
}

export interface SideBySideReport {
  readonly repositories: number;
  readonly tagsPerRepository: number;
  readonly tags: number;
  readonly keep: number;
  readonly seedSeconds: number;
  readonly repeats: number;
  /** The plans of both orders (`plan --json` on a fresh copy): they remove the same tags. */
  readonly plans: { readonly natural: PlanSummary; readonly created: PlanSummary };
  readonly removals: number;
  /** Whether the pinned variant ran, and why not when it did not. */
  readonly pinning: { readonly ran: boolean; readonly note: string };
  /** Whether the real registry-cli ran (`--registry-cli`). */
  readonly registryCli: { readonly ran: boolean; readonly python?: string };
  readonly summaries: readonly SideSummary[];
}

type Log = (message: string) => void;
type Counted = Required<Pick<SideRun, 'byKind' | 'requests' | 'connections'>>;

export async function measureSideBySide(options: SideBySideOptions, log: Log): Promise<SideBySideReport> {
  const work = mkdtempSync(join(tmpdir(), 'regsweep-bench-side-'));
  const seedRepositories = sideBySideSeed(options.repositories, options.tagsPerRepository);
  const storage = await SeededStorage.create(seedRepositories, options.storageRoot);
  try {
    const tags = storage.seed.tags;
    log(`side by side: seeded ${tags} tags in ${storage.seed.seconds.toFixed(1)} s`);
    const policies = Object.fromEntries(
      (['natural', 'created'] as const).map((order) => {
        const file = join(work, `${order}.json`);
        writeFileSync(file, JSON.stringify(sideBySidePolicy(order)));
        return [order, file];
      }),
    ) as Record<SideBySideOrder, string>;
    const cliArgs = (mode: 'plan' | 'sweep', url: string, order: SideBySideOrder): string[] => [
      mode,
      '--registry',
      url,
      '--policy',
      policies[order],
      '--json',
    ];

    const plans = await storage.withTrial(async (registry) => {
      const planOf = async (order: SideBySideOrder): Promise<Plan> => {
        const run = await runCli(registry.url, cliArgs('plan', registry.url, order));
        if (run.exitCode !== 0)
          throw new Error(`regsweep plan (${order}) exited ${run.exitCode}: ${run.stderr}`);
        return JSON.parse(run.stdout) as Plan;
      };
      return { natural: await planOf('natural'), created: await planOf('created') };
    });
    const removals = removalsOf(plans.natural);
    if (removals.join('\n') !== removalsOf(plans.created).join('\n'))
      throw new Error('side by side: the natural and created plans remove different tags');
    const planFile = join(work, 'plan.json');
    writeFileSync(planFile, JSON.stringify(plans.natural));

    const shaped = await ShapedLoopProcess.create(work);
    const python = options.registryCli === undefined ? undefined : pythonExecutable();
    const pinnable = canPin();
    const pinned = options.pin && pinnable;
    const tools: SideTool[] = [
      'registry-cli-shaped',
      ...(python === undefined ? [] : (['registry-cli'] as const)),
      ...REGSWEEP_TOOLS,
    ];

    let trial = 0;
    const runOne = (tool: SideTool, pin: boolean): Promise<SideRun> =>
      storage.withTrial(async (registry) => {
        trial += 1;
        if (pin) {
          if (registry.pid === undefined) throw new Error('side by side: no registry pid to pin');
          pinProcess(registry.pid, REGISTRY_CPU);
        }
        const cpu = pin ? CLIENT_CPU : undefined;
        const order: SideBySideOrder = tool === 'sweep-natural' ? 'natural' : 'created';
        const ledger = join(work, `ledger-${trial}.db`);
        const regsweep = async (mode: 'plan' | 'sweep', extra: string[]): Promise<ClientRun & Counted> => {
          const run = await runCli(registry.url, [...cliArgs(mode, registry.url, order), ...extra], { cpu });
          if (run.exitCode !== 0)
            throw new Error(`regsweep ${mode} (${tool}) exited ${run.exitCode}: ${run.stderr}`);
          return { ...run, requests: Object.values(run.byKind).reduce((sum, count) => sum + count, 0) };
        };
        // Not measured: a plan that fills the ledger's facts cache from this very registry.
        if (tool === 'sweep-warm') await regsweep('plan', ['--ledger', ledger]);
        const registryAffinity = registry.pid === undefined ? 'unknown' : affinityOf(registry.pid);
        const before = registry.cpuSeconds();
        let measured: ClientRun & Partial<Counted>;
        if (tool === 'registry-cli-shaped') {
          const { loop, ...run } = await shaped.run(registry.url, planFile, cpu);
          if (loop.failed > 0) throw new Error(`registry-cli-shaped: ${loop.failed} removals failed`);
          const byKind = { 'head-manifest': loop.tags, 'delete-manifest': loop.requests - loop.tags };
          measured = { ...run, byKind, requests: loop.requests, connections: loop.requests };
        } else if (tool === 'registry-cli') {
          const script = options.registryCli as string;
          measured = await runRegistryCliReal(python as string, script, registry.url, SIDE_BY_SIDE_KEEP, cpu);
        } else {
          measured = await regsweep('sweep', tool === 'sweep-warm' ? ['--ledger', ledger] : []);
        }
        const registryCpuSeconds = registry.cpuSeconds() - before;
        const endState = await checkEndState(registry.url, plans.natural, options.concurrency);
        const result: SideRun = {
          tool,
          pinned: pin,
          wallMs: measured.wallMs,
          clientCpuSeconds: measured.cpuSeconds,
          registryCpuSeconds,
          ...(measured.byKind && { byKind: measured.byKind }),
          ...(measured.requests !== undefined && { requests: measured.requests }),
          ...(measured.connections !== undefined && { connections: measured.connections }),
          registryAffinity,
          endState,
        };
        log(
          `side by side: ${tool}${pin ? ' (pinned)' : ''} ${(result.wallMs / 1000).toFixed(2)} s` +
            (result.requests === undefined
              ? ''
              : `, ${(result.requests / tags).toFixed(3)} requests per tag`) +
            `, ${endState.removed}/${removals.length} removed, ${endState.keptLost} kept lost`,
        );
        return result;
      });

    // Every repeat runs each tool once, unpinned then pinned: a drift in the machine's load spreads
    // over all of them instead of falling on one.
    const runs: SideRun[] = [];
    for (let repeat = 0; repeat < options.repeats; repeat += 1)
      for (const pin of pinned ? [false, true] : [false])
        for (const tool of tools) runs.push(await runOne(tool, pin));

    return {
      repositories: options.repositories,
      tagsPerRepository: options.tagsPerRepository,
      tags,
      keep: SIDE_BY_SIDE_KEEP,
      seedSeconds: storage.seed.seconds,
      repeats: options.repeats,
      plans: { natural: plans.natural.summary, created: plans.created.summary },
      removals: removals.length,
      pinning: {
        ran: pinned,
        note: pinned
          ? `registry on CPU ${REGISTRY_CPU} (taskset -a -p, every thread), client on CPU ${CLIENT_CPU} (taskset -c)`
          : options.pin
            ? 'not run: needs 2 cores and taskset'
            : 'not run (--no-pin)',
      },
      registryCli: python === undefined ? { ran: false } : { ran: true, python },
      summaries: summarizeSideRuns(runs, tags, removals.length),
    };
  } finally {
    await storage.remove();
    rmSync(work, { recursive: true, force: true });
  }
}

/** The tags a plan removes (`delete` and `untag`), as sorted `repository:tag`. */
function removalsOf(plan: Plan): string[] {
  return plan.repositories
    .flatMap((repository) =>
      repository.tags.filter((tag) => tag.action !== 'keep').map((tag) => `${repository.name}:${tag.tag}`),
    )
    .sort();
}
