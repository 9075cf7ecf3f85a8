import type { SQSClient } from '@aws-sdk/client-sqs';
import type { LambdaEnvironment } from '../aws/environment';
import { enqueueCleanups } from '../aws/queue';
import { logger } from '../aws/telemetry';
import { policyCoversRepository } from '../policy';
import type { RegistryClient } from '../registry';

export interface SweepDependencies {
  readonly environment: LambdaEnvironment;
  readonly client: RegistryClient;
  readonly sqs: SQSClient;
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
    const result = await enqueueCleanups(
      sqs,
      environment.queueUrl as string,
      covered.map((repository) => ({ repository, trigger: 'schedule' as const, eventIds: [], runId })),
      { runId },
    );
    logger.info('scheduled sweep queued', {
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
