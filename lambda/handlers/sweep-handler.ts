import type { SQSClient } from '@aws-sdk/client-sqs';
import type { LambdaEnvironment } from '../aws/environment';
import { enqueueCleanups } from '../aws/queue';
import { logger, recordRunBudget } from '../aws/telemetry';
import { LedgerRunExistsError } from '../ledger/errors';
import type { LedgerStore } from '../ledger/store';
import { policyCoversRepository } from '../policy';
import type { RegistryClient } from '../registry';

export interface SweepDependencies {
  readonly environment: LambdaEnvironment;
  readonly client: RegistryClient;
  readonly sqs: SQSClient;
  /**
   * The ledger: with `limits.maxDeletesPerRun`, the sweep creates the run's record with that
   * budget before queueing, and every worker reserves its repository's removals from it, so the
   * limit holds for the whole scheduled run. Absent: no ledger (the stack then refuses the limit
   * for scheduled sweeps at synth).
   */
  readonly ledger?: LedgerStore;
}

/** What a scheduled sweep did. */
export interface SweepSummary {
  readonly repositoriesSeen: number;
  readonly queued: number;
}

/**
 * The scheduled sweep (EventBridge Scheduler or rule): pages the catalog and queues every
 * repository that some rule covers, for the worker to clean. The schedule's event id makes the
 * messages' deduplication ids, so a retried invocation does not queue twice.
 */
export function createSweepHandler(deps: SweepDependencies) {
  const { environment, client, sqs } = deps;
  return async (event: { id?: string; time?: string } | undefined): Promise<SweepSummary> => {
    const started = Date.now();
    let repositoriesSeen = 0;
    const covered: string[] = [];
    for await (const repository of client.catalog()) {
      repositoriesSeen += 1;
      if (policyCoversRepository(environment.policy, repository)) covered.push(repository);
    }
    const runId = event?.id ?? event?.time ?? new Date(started).toISOString();
    const budget = environment.policy.document.limits.maxDeletesPerRun;
    if (deps.ledger && budget !== undefined) await createRun(deps.ledger, runId, budget, new Date(started));
    const result = await enqueueCleanups(
      sqs,
      environment.queueUrl as string,
      covered.map((repository) => ({ repository, trigger: 'schedule' as const, eventIds: [], runId })),
      { runId },
    );
    logger.info('scheduled sweep queued', {
      runId,
      ...(deps.ledger && budget !== undefined && { budget }),
      repositoriesSeen,
      covered: covered.length,
      queued: result.sent,
      failed: result.failed,
      durationMs: Date.now() - started,
    });
    // Throwing lets the scheduler retry; deduplication ids keep the retry from queueing twice.
    if (result.failed > 0)
      throw new Error(`could not queue ${result.failed} of ${covered.length} repositories`);
    return { repositoriesSeen, queued: result.sent };
  };
}

/**
 * Creates the scheduled run's record with its budget; a retried invocation of the same schedule
 * event finds it made and goes on with it (what the workers already reserved stays reserved).
 */
async function createRun(ledger: LedgerStore, runId: string, budget: number, startedAt: Date): Promise<void> {
  try {
    await ledger.createRun({ runId, trigger: 'schedule', startedAt, budget });
  } catch (error) {
    if (!(error instanceof LedgerRunExistsError)) throw error;
  }
  const run = await ledger.getRun(runId);
  logger.info('run budget', { runId, budget, used: run?.used ?? 0 });
  recordRunBudget({ budget });
}
