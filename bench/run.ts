/*
 * `npm run bench` (npx tsx bench/run.ts [--quick]): measures regsweep on a real local registry,
 * side by side with the sequential curl clean-up, the registry's raw capacity, the planner alone
 * and the Lambda bundles; writes bench/results/latest.md and latest.json. (Over 300 lines: `main`
 * is the bench's script, read top to bottom; what it derives from the runs is in derive.ts.)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Plan } from '../lambda/domain';
import { registryBinary } from '../tools/registry-process';
import { runBaseline } from './measure/baseline';
import { runRegistryCliShaped } from './measure/registry-cli-shaped';
import { runCli } from './measure/cli';
import { measureRawRate, type RawKind, type RawRate } from './measure/ceiling';
import { measureHeadKeepAlive, type HeadPass } from './measure/head-keep-alive';
import { checkEndState } from './measure/end-state';
import { measureLambdaColdStarts } from './measure/lambda';
import { measurePlanner } from './measure/planner';
import { measureFactsCache, measureRecording } from './measure/ledger';
import { measureSideBySide, sideBySideOptions } from './measure/side-by-side';
import { compilePolicy } from '../lambda/policy';
import { parseOptions, PROJECT_ROOT, type BenchOptions } from './options';
import { defaultStorageRoot, SeededStorage, type TrialRegistry } from './registry-trials';
import { checkTargets } from './report/targets';
import { renderMarkdown } from './report/markdown';
import type { BenchReport, CliMeasurement } from './report/types';
import { BENCH_POLICY, seedScenario } from './seed/scenario';
import { breakdown, registryBound, summarize, sweepResultsOf, weightedCeiling } from './derive';
import { loadAverageNow, machineInfo } from './system';
import { elapsedMs, median } from './stats';

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const machine = machineInfo();
  log(
    `${options.quick ? 'quick' : 'default'} run on ${machine.cpus} cores, load ${machine.loadAverageAtStart[0]}`,
  );
  execFileSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'build.mjs'), '--cli'], { stdio: 'inherit' });

  const work = mkdtempSync(join(tmpdir(), 'regsweep-bench-'));
  const policyFile = join(work, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(BENCH_POLICY, null, 2));
  const storageRoot = options.storageRoot ?? defaultStorageRoot();
  log(`seeding ${options.repositories} x ${options.tagsPerRepository} tags (storage under ${storageRoot})`);
  const storage = await SeededStorage.create(
    seedScenario(options.repositories, options.tagsPerRepository),
    storageRoot,
  );
  try {
    const seed = storage.seed;
    log(`seeded ${seed.tags} tags in ${seed.seconds.toFixed(1)} s`);
    const cliArgs = (mode: 'plan' | 'sweep', url: string): string[] => [
      mode,
      '--registry',
      url,
      '--policy',
      policyFile,
      '--json',
    ];

    // Plan: every run on the same registry, each right after measuring the registry's raw rates.
    const planRuns: CliMeasurement[] = [];
    const rates: Array<{ head: RawRate; getManifest: RawRate; getBlob: RawRate }> = [];
    let plan: Plan | undefined;
    let headKeepAlive: HeadPass[];
    {
      const registry = await storage.trial();
      try {
        const target = await ceilingTarget(registry.url);
        const raw = (url: string, kind: RawKind): Promise<RawRate> =>
          measureRawRate(url, kind, options.concurrency, options.ceilingSeconds);
        for (let run = 0; run < options.planRepeats; run += 1) {
          rates.push({
            head: await raw(target.manifest, 'head-manifest'),
            getManifest: await raw(target.manifest, 'get-manifest'),
            getBlob: await raw(target.config, 'get-blob'),
          });
          const measured = await measureCli(registry, cliArgs('plan', registry.url), seed.tags);
          planRuns.push(measured.run);
          plan ??= measured.plan;
          log(
            `plan ${run + 1}/${options.planRepeats}: ${(measured.run.wallMs / 1000).toFixed(1)} s; ` +
              `raw HEAD ${rates[run]?.head.requestsPerSecond.toFixed(0)}/s`,
          );
        }
        headKeepAlive = await measureHeadKeepAlive(
          registry,
          (plan?.repositories ?? []).map((repository) => repository.name),
          options.concurrency,
          options.quick ? 1 : 2,
        );
      } finally {
        await registry.stop();
      }
    }
    if (!plan) throw new Error('no plan was made');
    const plannedPlan: Plan = plan;

    // The facts cache: a cold and a warm plan with a ledger, on a fresh copy of the seed.
    const factsCache = await storage.withTrial((registry) =>
      measureFactsCache(registry.url, compilePolicy(BENCH_POLICY), options.concurrency, seed.tags),
    );
    log(
      `facts cache: cold ${factsCache.cold.requestsPerTag.toFixed(2)}, warm ${factsCache.warm.requestsPerTag.toFixed(3)} requests per tag`,
    );

    // Sweep: each CLI run on a fresh copy of the seed, checked against the plan afterwards.
    const sweepRuns: CliMeasurement[] = [];
    const endStates = [];
    let sweepResults: Record<string, number> = {};
    for (let run = 0; run < options.sweepRepeats; run += 1) {
      const registry = await storage.trial();
      try {
        const measured = await measureCli(registry, cliArgs('sweep', registry.url), seed.tags);
        sweepRuns.push(measured.run);
        sweepResults = sweepResultsOf(measured.plan);
        endStates.push(await checkEndState(registry.url, plannedPlan, options.concurrency));
        log(`sweep ${run + 1}/${options.sweepRepeats}: ${(measured.run.wallMs / 1000).toFixed(1)} s`);
      } finally {
        await registry.stop();
      }
    }

    // Baseline: the curl loop over exactly the tags the plan removes.
    const baseline = await storage.withTrial(async (registry) => {
      const before = registry.cpuSeconds();
      const run = await runBaseline(registry.url, plannedPlan);
      const registryCpuSeconds = registry.cpuSeconds() - before;
      const endState = await checkEndState(registry.url, plannedPlan, options.concurrency);
      return { ...run, registryCpuSeconds, endState };
    });
    log(`baseline: ${baseline.tags} tags in ${(baseline.wallMs / 1000).toFixed(1)} s`);

    // The registry-cli-shaped loop: HEAD + DELETE per removed tag, 4 workers, a connection each.
    const registryCli = await storage.withTrial(async (registry) => {
      const before = registry.cpuSeconds();
      const run = await runRegistryCliShaped(registry.url, plannedPlan);
      const registryCpuSeconds = registry.cpuSeconds() - before;
      const endState = await checkEndState(registry.url, plannedPlan, options.concurrency);
      return { ...run, registryCpuSeconds, endState };
    });
    log(`registry-cli-shaped: ${registryCli.tags} tags in ${(registryCli.wallMs / 1000).toFixed(1)} s`);

    // Issue 14's side by side: its own seed, registry-cli (shaped, and real when given) and sweeps.
    const sideBySide = await measureSideBySide(sideBySideOptions(options, storageRoot), log);

    log(`planner: ${options.plannerSizes.join(', ')} tags`);
    const planner = await measurePlanner(options.plannerSizes, options.plannerTagsPerRepository);
    const recording = [
      await measureRecording('sqlite', options.sqliteEvents),
      await measureRecording('dynalite', options.dynaliteEvents),
    ];
    for (const run of recording)
      log(
        `recording on ${run.store}: ${run.eventsPerSecond.toFixed(0)} events/s, p99 ${run.p99Ms.toFixed(1)} ms`,
      );
    log('lambda bundles');
    const lambda = await measureLambdaColdStarts(options.importRepeats);

    const planSummary = summarize(planRuns);
    const sweepSummary = summarize(sweepRuns);
    const planBreakdown = breakdown(planRuns[0] as CliMeasurement, seed.tags);
    const sweepBreakdown = breakdown(sweepRuns[0] as CliMeasurement, seed.tags);
    const ceilingRuns = planRuns.map((run, index) => {
      const rate = rates[index] as (typeof rates)[number];
      return {
        ...rate,
        ceilingTagsPerSecond: rate.head.requestsPerSecond / planBreakdown.totalPerTag,
        weightedTagsPerSecond: weightedCeiling(planBreakdown, rate),
        planTagsPerSecond: run.tagsPerSecond,
      };
    });
    const bound = registryBound(planSummary, sweepSummary, sweepBreakdown, headKeepAlive, baseline.wallMs);
    const report: Omit<BenchReport, 'targets'> = {
      version: 1,
      generatedAt: new Date().toISOString(),
      quick: options.quick,
      durationSeconds: 0,
      machine: { ...machine, loadAverageAtEnd: loadAverageNow(), registry: registryVersion() },
      commit: gitCommit(),
      storage: storageRoot === '/dev/shm' ? 'tmpfs (/dev/shm)' : storageRoot,
      concurrency: options.concurrency,
      seed: {
        repositories: options.repositories,
        tags: seed.tags,
        seconds: seed.seconds,
        tagsPerSecond: seed.tags / seed.seconds,
        requests: seed.requests,
        configBlobs: seed.blobs - options.repositories,
        plan: plannedPlan.summary,
      },
      plan: planSummary,
      sweep: { ...sweepSummary, results: sweepResults, endStates },
      requests: { tags: seed.tags, plan: planBreakdown, sweep: sweepBreakdown },
      baseline: {
        ...baseline,
        tagsPerSecond: baseline.tags / (baseline.wallMs / 1000),
        sweepSpeedup: baseline.wallMs / sweepSummary.wallMs,
      },
      registryCli: {
        ...registryCli,
        tagsPerSecond: registryCli.tags / (registryCli.wallMs / 1000),
        sweepSpeedup: registryCli.wallMs / sweepSummary.wallMs,
      },
      ceiling: {
        runs: ceilingRuns,
        headPerSecond: median(rates.map((rate) => rate.head.requestsPerSecond)),
        getManifestPerSecond: median(rates.map((rate) => rate.getManifest.requestsPerSecond)),
        getBlobPerSecond: median(rates.map((rate) => rate.getBlob.requestsPerSecond)),
        tagsPerSecond: median(ceilingRuns.map((run) => run.ceilingTagsPerSecond)),
        weightedTagsPerSecond: median(ceilingRuns.map((run) => run.weightedTagsPerSecond)),
        planFraction: median(ceilingRuns.map((run) => run.planTagsPerSecond / run.ceilingTagsPerSecond)),
        planFractionWeighted: median(
          ceilingRuns.map((run) => run.planTagsPerSecond / run.weightedTagsPerSecond),
        ),
      },
      headKeepAlive,
      sideBySide,
      bound,
      planner,
      ledger: { factsCache, recording },
      lambda,
    };
    const complete: BenchReport = {
      ...report,
      durationSeconds: elapsedMs(started) / 1000,
      targets: checkTargets(report),
    };
    writeReport(options, complete);
  } finally {
    await storage.remove();
    rmSync(work, { recursive: true, force: true });
  }
}

/** A kept Docker image's manifest URL and its config blob's URL, for the raw rate measurements. */
async function ceilingTarget(registry: string): Promise<{ manifest: string; config: string }> {
  const manifest = `${registry}/v2/bench/svc-00/manifests/v1.2.0`;
  const response = await fetch(manifest, {
    headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
  });
  const body = (await response.json()) as { config?: { digest?: string } };
  if (!response.ok || !body.config?.digest) throw new Error(`cannot read ${manifest}: ${response.status}`);
  return { manifest, config: `${registry}/v2/bench/svc-00/blobs/${body.config.digest}` };
}

async function measureCli(
  registry: TrialRegistry,
  args: string[],
  tags: number,
): Promise<{ run: CliMeasurement; plan: Plan }> {
  const before = registry.cpuSeconds();
  const run = await runCli(registry.url, args);
  const registryCpuSeconds = registry.cpuSeconds() - before;
  if (run.exitCode !== 0) throw new Error(`regsweep ${args[0]} exited ${run.exitCode}: ${run.stderr}`);
  const { stdout, stderr: _stderr, ...measured } = run;
  const requests = Object.values(run.byKind).reduce((sum, count) => sum + count, 0);
  return {
    run: { ...measured, requests, tagsPerSecond: tags / (run.wallMs / 1000), registryCpuSeconds },
    plan: JSON.parse(stdout) as Plan,
  };
}

function gitCommit(): string {
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', args, { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
    const dirty = git('status', '--porcelain', '--', 'lambda', 'bin', 'scripts') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? '+dirty' : ''}`;
  } catch {
    return 'unknown';
  }
}

function registryVersion(): string {
  const binary = registryBinary();
  if (!binary) return 'unknown';
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function writeReport(options: BenchOptions, report: BenchReport): void {
  mkdirSync(options.outDir, { recursive: true });
  const json = join(options.outDir, 'latest.json');
  const markdown = join(options.outDir, 'latest.md');
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(markdown, renderMarkdown(report));
  log(`report: ${markdown} and ${json} (${report.durationSeconds.toFixed(0)} s)`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
