import { sideBySideTargets } from './side-by-side';
import type { BenchReport, TargetCheck } from './types';

/** The targets. */
export const TARGETS = {
  sweepSpeedup: 16,
  registryCliSpeedup: 1.25,
  planCeilingFraction: 0.7,
  headsPerTag: 1,
  plannerTags: 1_000_000,
  plannerMs: 5_000,
  plannerMiB: 1024,
  bundleBytes: 1_000_000,
  importMs: 200,
  warmRequestsPerTag: 1.1,
} as const;

const percent = (value: number): string => `${(value * 100).toFixed(0)}%`;

/** Where the measurements stand against each target of the issue. */
export function checkTargets(report: Omit<BenchReport, 'targets'>): TargetCheck[] {
  const checks: TargetCheck[] = [];
  checks.push({
    name: 'sweep vs sequential curl',
    target: `>= ${TARGETS.sweepSpeedup}x faster`,
    measured: `${report.baseline.sweepSpeedup.toFixed(1)}x`,
    met: report.baseline.sweepSpeedup >= TARGETS.sweepSpeedup,
  });
  checks.push({
    name: 'sweep vs registry-cli-shaped loop',
    target: `>= ${TARGETS.registryCliSpeedup}x its speed, with re-verification`,
    measured: `${report.registryCli.sweepSpeedup.toFixed(2)}x`,
    met: report.registryCli.sweepSpeedup >= TARGETS.registryCliSpeedup,
  });
  checks.push(...sideBySideTargets(report.sideBySide));
  checks.push({
    name: 'plan vs registry-bound ceiling',
    target: `>= ${percent(TARGETS.planCeilingFraction)} of raw HEAD/s / requests per tag`,
    measured: `${percent(report.ceiling.planFraction)} (weighted by kind: ${percent(report.ceiling.planFractionWeighted)})`,
    met: report.ceiling.planFraction >= TARGETS.planCeilingFraction,
  });
  const heads = report.requests.plan.perTag['head-manifest'];
  checks.push({
    name: 'plan: manifest HEADs per tag',
    target: `<= ${TARGETS.headsPerTag}`,
    measured: heads.toFixed(2),
    met: heads <= TARGETS.headsPerTag,
  });
  const configReads = report.requests.plan.byKind['get-blob'];
  checks.push({
    name: 'plan: config reads per unique image',
    target: '<= 1',
    measured: `${configReads} reads / ${report.seed.configBlobs} configs = ${(configReads / report.seed.configBlobs).toFixed(2)}`,
    met: configReads <= report.seed.configBlobs,
  });
  const largest = report.planner
    .filter((run) => run.shape === 'multi-repository')
    .sort((a, b) => b.tags - a.tags)[0];
  if (largest) {
    const scaled = largest.tags < TARGETS.plannerTags ? ` (only ${largest.tags} tags in this run)` : '';
    checks.push({
      name: `planner, ${largest.tags.toLocaleString('en-US')} tags`,
      target: `< ${TARGETS.plannerMs / 1000} s and < 1 GiB peak RSS at 1M tags`,
      measured: `${(largest.planMs / 1000).toFixed(2)} s, ${largest.maxRssMiB.toFixed(0)} MiB peak (inventory alone ${largest.rssBeforeMiB.toFixed(0)} MiB)${scaled}`,
      met: largest.planMs < TARGETS.plannerMs && largest.maxRssMiB < TARGETS.plannerMiB,
    });
  }
  const { factsCache } = report.ledger;
  checks.push({
    name: 'warm plan with a ledger (facts cache): requests per tag',
    target: `<= ${TARGETS.warmRequestsPerTag}, the same plan as cold`,
    measured: `${factsCache.warm.requestsPerTag.toFixed(3)} (cold ${factsCache.cold.requestsPerTag.toFixed(2)}), ${factsCache.samePlan ? 'same plan' : '**plans differ**'}`,
    met: factsCache.warm.requestsPerTag <= TARGETS.warmRequestsPerTag && factsCache.samePlan,
  });
  for (const bundle of report.lambda) {
    checks.push({
      name: `Lambda ${bundle.handler}`,
      target: `< 1 MB minified, import < ${TARGETS.importMs} ms, no network`,
      measured: `${(bundle.bundleBytes / 1e6).toFixed(2)} MB, ${bundle.importMsMedian.toFixed(0)} ms, ${bundle.connectAttempts} connects`,
      met:
        bundle.bundleBytes < TARGETS.bundleBytes &&
        bundle.importMsMedian < TARGETS.importMs &&
        bundle.connectAttempts === 0,
    });
  }
  return checks;
}
