import type { SQSClient } from '@aws-sdk/client-sqs';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import type { LambdaEnvironment } from '../aws/environment';
import { enqueueCleanups } from '../aws/queue';
import type { SecretStore } from '../aws/secrets';
import { errorSummary, logger, recordLedgerEvents } from '../aws/telemetry';
import type { RegistryEvent } from '../domain';
import { acceptWebhook, toCleanupMessages } from '../events';
import { recordWithin, type RecordingOutcome } from '../ledger/recorder';
import type { LedgerStore } from '../ledger/store';
import { policyCoversRepository } from '../policy';

/** What the webhook answers: always a status and a small JSON body (never the bare-string form). */
export type WebhookResult = Exclude<LambdaFunctionURLResult, string>;

export interface WebhookDependencies {
  readonly environment: LambdaEnvironment;
  readonly secrets: Pick<SecretStore, 'get'>;
  readonly sqs: SQSClient;
  /** Where the notification's events are recorded; absent: no ledger. */
  readonly ledger?: LedgerStore;
  /** How long recording may take before the webhook answers anyway. @default RECORD_BUDGET_MS (1 s) */
  readonly recordBudgetMs?: number;
  /** When a post arrived (the time of events that carry none). @default the wall clock */
  readonly now?: () => Date;
}

function reply(statusCode: number, message: string, extra: Record<string, unknown> = {}): WebhookResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message, ...extra }),
  };
}

/**
 * The registry's notification endpoint (Lambda Function URL, payload 2.0): checks the bearer token,
 * parses the envelope, records its manifest events (pushes, pulls, deletes) in the ledger when
 * there is one, and queues one cleanup per pushed repository that the policy covers. It answers
 * fast, and never 5xx for bad input (the registry retries non-2xx forever); 503 only when the
 * queue or the secret cannot be reached, so that the registry retries that delivery. The ledger
 * never decides the answer: events it does not take within its budget are lost, and logged.
 */
export function createWebhookHandler(deps: WebhookDependencies) {
  const { environment, ledger } = deps;
  const now = deps.now ?? (() => new Date());
  return async (event: LambdaFunctionURLEvent): Promise<WebhookResult> => {
    try {
      const { webhookToken } = await deps.secrets.get();
      if (!webhookToken) {
        logger.error('the secret has no webhookToken: every delivery is refused until it is set');
        return reply(503, 'webhook token not configured');
      }
      const decision = acceptWebhook(
        {
          method: event.requestContext?.http?.method,
          headers: event.headers ?? {},
          body: event.body ?? null,
          isBase64Encoded: event.isBase64Encoded === true,
        },
        { webhookToken, now: now() },
      );
      if (decision.statusCode !== 202) {
        logger.warn('notification refused', { statusCode: decision.statusCode, reason: decision.message });
        return reply(decision.statusCode, decision.message);
      }
      const covered = decision.repositories.filter((entry) =>
        policyCoversRepository(environment.policy, entry.repository),
      );
      const queueUrl = environment.queueUrl as string;
      // Both at once: recording is bounded by its budget and never throws.
      const [result, recording] = await Promise.all([
        enqueueCleanups(deps.sqs, queueUrl, toCleanupMessages(covered)),
        record(decision.events),
      ]);
      logger.info('notification accepted', {
        repositories: covered.map((entry) => entry.repository),
        notCovered: decision.repositories.length - covered.length,
        ignoredEvents: decision.ignored,
        queued: result.sent,
        failed: result.failed,
        ...(recording && { ledger: recording }),
      });
      if (result.failed > 0) return reply(503, 'could not queue every repository; retry');
      return reply(202, decision.message, { queued: result.sent });
    } catch (error) {
      logger.error('notification not processed', { error: errorSummary(error) });
      return reply(503, 'temporarily unavailable; retry');
    }
  };

  /** Records the events within the budget; what the store did not take is lost, and logged. */
  async function record(events: readonly RegistryEvent[]): Promise<RecordingOutcome | undefined> {
    if (!ledger || events.length === 0) return undefined;
    const outcome = await recordWithin(ledger, events, {
      ignorePullsFrom: environment.policy.ledger.ignorePullsFrom,
      ...(deps.recordBudgetMs !== undefined && { budgetMs: deps.recordBudgetMs }),
    });
    if (outcome.lost > 0) {
      logger.warn('ledger events lost: the notification is answered without them', {
        lost: outcome.lost,
        recorded: outcome.recorded,
        reason: outcome.error,
      });
    }
    try {
      recordLedgerEvents(environment.registry, outcome);
    } catch (error) {
      logger.warn('could not emit the ledger metrics', { error: errorSummary(error) });
    }
    return outcome;
  }
}
