import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { PlanResultCounts } from '../domain';

/** Structured JSON logs; never pass a secret value to it. */
export const logger = new Logger({ serviceName: 'regsweep' });

/**
 * The Lambda entry point of `handler`: each invocation's context (request id, function name and
 * version, cold start) is attached to every log line it writes. Tests call `handler` directly.
 */
export function withLambdaContext<E, R>(handler: (event: E, context?: Context) => Promise<R>) {
  return async (event: E, context?: Context): Promise<R> => {
    if (context) logger.addContext(context);
    return handler(event, context);
  };
}

/** CloudWatch embedded-metric-format metrics, namespace `regsweep`. */
export const metrics = new Metrics({ namespace: 'regsweep', serviceName: 'regsweep' });

/** Counts of one run's outcomes, for logs and metrics: the plan's own count. */
export type RunCounts = PlanResultCounts;
export { countResults } from '../domain';

/** Records one run's outcome as metrics, per registry (host only: no path, no credentials). */
export function recordRun(registry: string, counts: RunCounts, durationMs: number, dryRun: boolean): void {
  // One EMF record per run; publishing clears the metrics and these per-run dimensions.
  metrics.addDimension('registry', new URL(registry).host);
  metrics.addDimension('mode', dryRun ? 'dry-run' : 'sweep');
  metrics.addMetric('TagsDeleted', MetricUnit.Count, counts.deleted);
  metrics.addMetric('TagsUntagged', MetricUnit.Count, counts.untagged);
  metrics.addMetric('TagsKept', MetricUnit.Count, counts.kept);
  metrics.addMetric('TagsSkippedChanged', MetricUnit.Count, counts.skippedChanged);
  metrics.addMetric('RemovalsFailed', MetricUnit.Count, counts.failed);
  metrics.addMetric('RunDuration', MetricUnit.Milliseconds, durationMs);
  metrics.publishStoredMetrics();
}

/** What the webhook did with a notification's events for the ledger (see `recordWithin`). */
export interface LedgerRecordingCounts {
  readonly recorded: number;
  readonly lost: number;
}

/**
 * Records, per registry host, how many notification events the webhook wrote to the ledger and
 * how many it lost (the store failed or was slower than its budget): `LedgerEventsRecorded`,
 * `LedgerEventsLost`.
 */
export function recordLedgerEvents(registry: string, counts: LedgerRecordingCounts): void {
  metrics.addDimension('registry', new URL(registry).host);
  metrics.addMetric('LedgerEventsRecorded', MetricUnit.Count, counts.recorded);
  metrics.addMetric('LedgerEventsLost', MetricUnit.Count, counts.lost);
  metrics.publishStoredMetrics();
}

/** Name and message only: no stack with request data, never a secret. */
export function errorSummary(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Error', message: String(error) };
}

/**
 * A scheduled run's budget (`limits.maxDeletesPerRun`): `RunBudget` when the sweep creates the
 * run, then per worker invocation `RunBudgetReserved` (removals it reserved; their sum over a run
 * is the budget used) and `RunBudgetSkipped` (1 when its repository did not fit and was skipped).
 */
export function recordRunBudget(values: { budget?: number; reserved?: number; skipped?: boolean }): void {
  if (values.budget !== undefined) metrics.addMetric('RunBudget', MetricUnit.Count, values.budget);
  if (values.reserved !== undefined)
    metrics.addMetric('RunBudgetReserved', MetricUnit.Count, values.reserved);
  if (values.skipped !== undefined)
    metrics.addMetric('RunBudgetSkipped', MetricUnit.Count, values.skipped ? 1 : 0);
  metrics.publishStoredMetrics();
}
