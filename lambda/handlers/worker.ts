import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { readEnvironment, type LambdaEnvironment } from '../aws/environment';
import { registryClientFor } from '../aws/registry';
import { SecretStore } from '../aws/secrets';
import { countResults, errorSummary, logger, recordRun, withLambdaContext } from '../aws/telemetry';
import { sweepRun } from '../engine';
import { parseCleanupMessage } from '../events';
import type { RegistryClient } from '../registry';

export interface WorkerDependencies {
  readonly environment: LambdaEnvironment;
  readonly client: RegistryClient;
}

/**
 * Cleans the repository named by each queued message. Only the messages that failed are reported
 * (`reportBatchItemFailures`), so only they come back; on a FIFO queue every later message of a
 * failed message's group is reported too, to keep the group's order. A rerun is harmless: a
 * removal that is already done counts as done.
 */
export function createWorkerHandler(deps: WorkerDependencies) {
  const { environment, client } = deps;
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchItemFailure[] = [];
    const failedGroups = new Set<string>();
    for (const record of event.Records) {
      const group = record.attributes?.MessageGroupId ?? record.messageId;
      if (failedGroups.has(group)) {
        batchItemFailures.push({ itemIdentifier: record.messageId });
        continue;
      }
      const started = Date.now();
      try {
        const message = parseCleanupMessage(record.body);
        const plan = await sweepRun({
          client,
          policy: environment.policy,
          repositories: [message.repository],
          dryRun: environment.dryRun,
        });
        const counts = countResults(plan);
        const durationMs = Date.now() - started;
        recordRun(environment.registry, counts, durationMs, environment.dryRun);
        logger.info('repository cleaned', {
          repository: message.repository,
          trigger: message.trigger,
          dryRun: environment.dryRun,
          planned: plan.summary,
          ...counts,
          durationMs,
        });
        // A repository that could not be read (or checked) is a failure too: the queue retries it.
        const unread = plan.repositories.find((repository) => repository.error !== undefined)?.error;
        if (unread !== undefined) throw new Error(`${message.repository}: ${unread}`);
        if (counts.failed > 0) throw new Error(`${counts.failed} removals failed in ${message.repository}`);
      } catch (error) {
        logger.error('cleanup failed; the message will be retried', {
          messageId: record.messageId,
          error: errorSummary(error),
          durationMs: Date.now() - started,
        });
        batchItemFailures.push({ itemIdentifier: record.messageId });
        failedGroups.add(group);
      }
    }
    return { batchItemFailures };
  };
}

const environment = readEnvironment(process.env, { requireQueue: false });
const secrets = new SecretStore(new SecretsManagerClient({}), environment.secretArn);

/** The Lambda entry point; the registry client (and its connection pool) lives across invocations. */
export const handler = withLambdaContext(
  createWorkerHandler({ environment, client: registryClientFor(environment, secrets) }),
);
