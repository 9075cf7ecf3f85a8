/* Numbers derived from the bench's runs: medians, request breakdowns, the ceiling, the bound. */
import { cpus } from 'node:os';

import { countResults, type Plan } from '../lambda/domain';
import { REQUEST_KINDS, type RequestKind } from '../lambda/registry';
import type { RawRate } from './measure/ceiling';
import type { HeadPass } from './measure/head-keep-alive';
import type { BenchReport, CliMeasurement, CliSummary, RequestBreakdown } from './report/types';
import { median } from './stats';

export function summarize(runs: readonly CliMeasurement[]): CliSummary {
  return {
    runs,
    wallMs: median(runs.map((run) => run.wallMs)),
    tagsPerSecond: median(runs.map((run) => run.tagsPerSecond)),
    maxRssMiB: median(runs.map((run) => run.maxRssMiB)),
    cpuSeconds: median(runs.map((run) => run.cpuSeconds)),
    registryCpuSeconds: median(runs.map((run) => run.registryCpuSeconds)),
  };
}

export function breakdown(run: CliMeasurement, tags: number): RequestBreakdown {
  const byKind = Object.fromEntries(REQUEST_KINDS.map((kind) => [kind, run.byKind[kind] ?? 0])) as Record<
    RequestKind,
    number
  >;
  const perTag = Object.fromEntries(REQUEST_KINDS.map((kind) => [kind, byKind[kind] / tags])) as Record<
    RequestKind,
    number
  >;
  return {
    byKind,
    other: run.byKind.other ?? 0,
    total: run.requests,
    connections: run.connections,
    perTag,
    totalPerTag: run.requests / tags,
  };
}

/** Tags/s if every request of the plan ran at its own raw rate (lists at the GET manifest rate). */
export function weightedCeiling(
  plan: RequestBreakdown,
  rates: { head: RawRate; getManifest: RawRate; getBlob: RawRate },
): number {
  let secondsPerTag = 0;
  for (const kind of REQUEST_KINDS) {
    const rate =
      kind === 'head-manifest' ? rates.head : kind === 'get-blob' ? rates.getBlob : rates.getManifest;
    secondsPerTag += plan.perTag[kind] / rate.requestsPerSecond;
  }
  return 1 / secondsPerTag;
}

/**
 * What the registry's CPU allows. A HEAD's cost comes from the keep-alive passes; a DELETE's is
 * what the sweep cost beyond its plan and its re-verifying HEADs, per DELETE (distribution reads
 * every tag of the repository on each manifest DELETE, so it grows with the repository).
 */
export function registryBound(
  plan: CliSummary,
  sweep: CliSummary,
  sweepCounts: RequestBreakdown,
  heads: readonly HeadPass[],
  baselineWallMs: number,
): BenchReport['bound'] {
  const cores = cpus().length;
  const headRegistryCpuMs = median(
    heads.filter((pass) => pass.variant === 'regsweep').map((pass) => pass.registryCpuMsPerRequest),
  );
  const deletes = sweepCounts.byKind['delete-manifest'];
  const verifyHeads = sweepCounts.byKind['head-manifest'];
  const deleteRegistryCpuMs =
    ((sweep.registryCpuSeconds - plan.registryCpuSeconds) * 1000 - verifyHeads * headRegistryCpuMs) / deletes;
  const deletesFloorSeconds = (deletes * deleteRegistryCpuMs) / 1000 / cores;
  return {
    headRegistryCpuMs,
    verifyRegistryCpuSeconds: (verifyHeads * headRegistryCpuMs) / 1000,
    planFloorSeconds: (plan.registryCpuSeconds + plan.cpuSeconds) / cores,
    deleteRegistryCpuMs,
    sweepFloorSeconds: sweep.registryCpuSeconds / cores,
    deletesFloorSeconds,
    deletesOnlySpeedupLimit: baselineWallMs / 1000 / deletesFloorSeconds,
  };
}

/** The plan's result counts under the plan JSON's result names, only those that occurred. */
export function sweepResultsOf(plan: Plan): Record<string, number> {
  const { deleted, untagged, skippedChanged, failed } = countResults(plan);
  const results: Record<string, number> = { deleted, untagged, 'skipped-changed': skippedChanged, failed };
  return Object.fromEntries(Object.entries(results).filter(([, count]) => count > 0));
}
