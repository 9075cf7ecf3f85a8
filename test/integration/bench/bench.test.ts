import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { BenchReport } from '../../../bench/report/types';

const PROJECT_ROOT = join(__dirname, '..', '..', '..');
/** The quick bench takes 25-45 s on a busy 2-core machine; this only stops a hang. */
const QUICK_BENCH_TIMEOUT_MS = 150_000;

function runQuickBench(outDir: string): Promise<{ status: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [require.resolve('tsx/cli'), join(PROJECT_ROOT, 'bench', 'run.ts'), '--quick', '--out', outDir],
      { cwd: PROJECT_ROOT, timeout: QUICK_BENCH_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ status, stderr });
      },
    );
  });
}

describe('Bench: npm run bench -- --quick', () => {
  let outDir: string;
  let run: { status: number; stderr: string };

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'regsweep-bench-test-'));
    run = await runQuickBench(outDir);
  }, QUICK_BENCH_TIMEOUT_MS + 10_000);

  afterAll(() => {
    rmSync(outDir, { recursive: true, force: true });
  });

  it('finishes and writes a JSON report with every measurement', () => {
    // Assess
    expect({ status: run.status, stderr: run.stderr.slice(-2000) }).toMatchObject({ status: 0 });
    const report = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as BenchReport;
    expect(report).toMatchObject({ version: 1, quick: true, seed: { repositories: 2, tags: 100 } });
    expect(report.plan.runs).toHaveLength(1);
    expect(report.sweep.runs).toHaveLength(1);
    for (const run of [...report.plan.runs, ...report.sweep.runs]) {
      expect(run).toMatchObject({ exitCode: 0 });
      expect(run.wallMs).toBeGreaterThan(0);
      expect(run.maxRssMiB).toBeGreaterThan(0);
    }
    expect(report.requests.plan.total).toBeGreaterThan(0);
    expect(report.requests.sweep.byKind['delete-manifest']).toBeGreaterThan(0);
    expect(report.baseline.tags).toBe(report.seed.plan.delete + report.seed.plan.untag);
    expect(report.ceiling.runs[0]?.head.requestsPerSecond).toBeGreaterThan(0);
    expect(report.headKeepAlive.map((pass) => pass.variant)).toEqual(['regsweep', 'connection-close']);
    expect(report.planner.map((entry) => entry.tags)).toEqual([1_000, 10_000, 1_000, 10_000]);
    expect(report.lambda.map((bundle) => bundle.handler)).toEqual(['webhook', 'worker', 'sweep']);
    expect(report.targets.length).toBeGreaterThan(0);
  });

  it('finds that the sweep removed exactly the planned tags, and that the curl loop did not', () => {
    // Assess
    const report = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as BenchReport;
    const planned = report.seed.plan.delete + report.seed.plan.untag;
    expect(report.sweep.endStates[0]).toEqual({
      removed: planned,
      notRemoved: 0,
      keptLost: 0,
      keptChanged: 0,
      brokenIndexes: 0,
    });
    // OCI images get no digest from its Docker-only Accept header, and shared digests take kept tags.
    expect(report.baseline.endState.notRemoved).toBeGreaterThan(0);
    expect(report.baseline.endState.keptLost).toBeGreaterThan(0);
  });

  it('measures the facts cache and the ledger recording: warm plans cost one HEAD per tag', () => {
    // Assess
    const report = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as BenchReport;
    const { factsCache, recording } = report.ledger;
    expect(factsCache.samePlan).toBe(true);
    expect(factsCache.warm.byKind['head-manifest']).toBe(report.seed.tags);
    expect(factsCache.warm.byKind['get-manifest'] + factsCache.warm.byKind['get-blob']).toBe(0);
    expect(factsCache.cold.byKind['get-blob']).toBeGreaterThan(0);
    expect(factsCache.warm.requestsPerTag).toBeLessThanOrEqual(1.1);
    expect(recording.map((run) => run.store)).toEqual(['sqlite', 'dynalite']);
    for (const run of recording) {
      expect(run).toMatchObject({ events: run.handled + run.lost });
      expect(run.eventsPerSecond).toBeGreaterThan(0);
      expect(run.p99Ms).toBeGreaterThanOrEqual(run.p50Ms);
    }
    expect(recording[0]?.fileBytes).toBeGreaterThan(0);
  });

  it('runs the side by side on its own seed: every tool removes exactly the planned tags, pinned too', () => {
    // Assess
    const report = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as BenchReport;
    const side = report.sideBySide;
    expect(side).toMatchObject({
      repositories: 2,
      tagsPerRepository: 20,
      tags: 40,
      removals: 30,
      repeats: 1,
    });
    expect(side.registryCli.ran).toBe(false);
    expect(side.summaries.filter((summary) => !summary.pinned).map((summary) => summary.tool)).toEqual([
      'registry-cli-shaped',
      'sweep-natural',
      'sweep-created',
      'sweep-warm',
    ]);
    for (const summary of side.summaries) {
      expect(summary.runs).toHaveLength(1);
      expect(summary).toMatchObject({ endStateExact: true });
      expect(summary.perTag?.['delete-manifest']).toBe(30 / 40);
      if (summary.tool.startsWith('sweep')) expect(summary.speedVsShaped).toBeGreaterThan(0);
    }
    const cold = (tool: string) => side.summaries.find((summary) => summary.tool === tool && !summary.pinned);
    expect(cold('sweep-created')?.perTag?.['get-blob']).toBeGreaterThan(0);
    expect(cold('sweep-natural')?.perTag?.['get-blob'] ?? 0).toBe(0);
    const pinned = side.summaries.filter((summary) => summary.pinned);
    expect(pinned).toHaveLength(side.pinning.ran ? 4 : 0);
    for (const run of pinned.flatMap((summary) => summary.runs)) expect(run.registryAffinity).toBe('0');
    const rows = report.targets.filter((check) => check.name.startsWith('side by side:'));
    expect(rows).toHaveLength((side.pinning.ran ? 6 : 3) + 3);
  });

  it('imports each Lambda bundle without touching the network', () => {
    // Assess
    const report = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as BenchReport;
    for (const bundle of report.lambda) expect(bundle).toMatchObject({ connectAttempts: 0 });
  });

  it('writes a Markdown report with every section', () => {
    // Assess
    const markdown = readFileSync(join(outDir, 'latest.md'), 'utf8');
    for (const heading of [
      '# regsweep bench (--quick)',
      '## Targets',
      '## regsweep and the curl loop, same seed, same removals',
      '## Side by side: the issue-14 seed',
      '## HTTP requests per tag',
      '## The registry-bound ceiling',
      '## HEADs and connection reuse',
      '## What bounds the sweep',
      '## The planner alone',
      '## The ledger',
      '## Lambda cold start',
      '## Every run',
      '## Method',
    ]) {
      expect(markdown).toContain(heading);
    }
  });
});
