import { REQUEST_KINDS } from '../../lambda/registry';
import { fixed, seconds, table } from './format';
import type { BenchReport } from './types';

/** The planner's section: synthetic inventories of growing size, each in a fresh process. */
export function plannerSection(report: BenchReport): string[] {
  const out: string[] = [];
  out.push('## The planner alone (synthetic inventories, fresh process each)');
  out.push('');
  out.push(
    table(
      [
        'shape',
        'tags',
        'repositories',
        'plan',
        'per tag',
        'peak RSS',
        'RSS with inventory, before planning',
        'heap after',
      ],
      report.planner.map((run) => [
        run.shape,
        run.tags.toLocaleString('en-US'),
        run.repositories,
        `${fixed(run.planMs)} ms`,
        `${fixed((run.planMs * 1000) / run.tags, 1)} µs`,
        `${fixed(run.maxRssMiB)} MiB`,
        `${fixed(run.rssBeforeMiB)} MiB`,
        `${fixed(run.heapUsedMiB)} MiB`,
      ]),
    ),
  );
  out.push('');

  for (const shape of ['multi-repository', 'one repository'] as const) {
    const runs = report.planner.filter((run) => run.shape === shape).sort((a, b) => a.tags - b.tags);
    const first = runs[0];
    const last = runs[runs.length - 1];
    if (!first || !last || first === last) continue;
    const perTag = (run: typeof first): number => (run.planMs * 1000) / run.tags;
    out.push(
      `- ${shape}: ${fixed(last.tags / first.tags)}× the tags cost ${fixed(last.planMs / first.planMs, 1)}× the time ` +
        `(${fixed(perTag(first), 1)} → ${fixed(perTag(last), 1)} µs per tag; n log n would be ` +
        `${fixed((last.tags * Math.log2(last.tags)) / (first.tags * Math.log2(first.tags)), 1)}×).`,
    );
  }
  out.push('');

  return out;
}

/** The ledger's section: the facts cache's requests per tag, recording throughput, file size. */
export function ledgerSection(report: BenchReport): string[] {
  const out: string[] = [];
  const { factsCache, recording } = report.ledger;
  out.push('## The ledger');
  out.push('');
  out.push(
    `The facts cache: two plans in process with one fresh SQLite ledger on the seeded registry (${factsCache.tags} tags), ` +
      `cold (empty ledger) then warm (the facts the cold plan wrote); every request counted. ` +
      `The plans ${factsCache.samePlan ? 'are the same' : '**differ**'} (everything but their time).`,
  );
  out.push('');
  const cacheKinds = REQUEST_KINDS.filter(
    (kind) => factsCache.cold.byKind[kind] > 0 || factsCache.warm.byKind[kind] > 0,
  );
  out.push(
    table(
      ['plan', 'wall', 'requests', 'per tag', ...cacheKinds],
      [factsCache.cold, factsCache.warm].map((run, index) => [
        index === 0 ? 'cold' : 'warm',
        seconds(run.wallMs),
        run.requests,
        fixed(run.requestsPerTag, 3),
        ...cacheKinds.map((kind) => run.byKind[kind]),
      ]),
    ),
  );
  out.push('');
  out.push(
    `Recording (the webhook's path: \`registryEventsOf\` then \`recordWithin\`, one notification of ` +
      `${recording[0]?.eventsPerNotification ?? 0} events at a time: half pushes of new tags, half docker pulls):`,
  );
  out.push('');
  out.push(
    table(
      [
        'store',
        'events',
        'events/s',
        'p50 / notification',
        'p99 / notification',
        'lost',
        'file',
        'per 100k events',
      ],
      recording.map((run) => [
        run.store,
        run.events,
        fixed(run.eventsPerSecond),
        `${fixed(run.p50Ms, 1)} ms`,
        `${fixed(run.p99Ms, 1)} ms`,
        run.lost,
        run.fileBytes === undefined ? 'n/a' : `${fixed(run.fileBytes / 1e6, 1)} MB`,
        run.bytesPer100kEvents === undefined ? 'n/a' : `${fixed(run.bytesPer100kEvents / 1e6, 1)} MB`,
      ]),
    ),
  );
  out.push('');

  return out;
}

/** The Lambda bundles' section: size, import time, network at import. */
export function lambdaSection(report: BenchReport): string[] {
  const out: string[] = [];
  out.push('## Lambda cold start (bundled like the CDK: esbuild, node22, minified, CJS, @aws-sdk external)');
  out.push('');
  out.push(
    table(
      [
        'handler',
        'bundle',
        'source map',
        'import (median)',
        'process start to exit',
        'network attempts',
        'largest parts',
      ],
      report.lambda.map((bundle) => [
        bundle.handler,
        `${fixed(bundle.bundleBytes / 1000)} kB`,
        `${fixed(bundle.sourceMapBytes / 1000)} kB`,
        `${fixed(bundle.importMsMedian)} ms`,
        `${fixed(bundle.processMsMedian)} ms`,
        bundle.connectAttempts,
        bundle.largestInputs.map((input) => `${input.input} ${fixed(input.bytes / 1000)} kB`).join(', '),
      ]),
    ),
  );
  out.push('');
  out.push(
    'Import time includes loading the AWS SDK clients from node_modules, as the Lambda runtime loads its own.',
  );
  out.push('');

  return out;
}
