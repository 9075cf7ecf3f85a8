import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { readEnvironment, type LambdaEnvironment } from '../aws/environment';
import { enqueueCleanups } from '../aws/queue';
import { SecretStore } from '../aws/secrets';
import { errorSummary, logger, withLambdaContext } from '../aws/telemetry';
import { acceptWebhook, toCleanupMessages } from '../events';
import { policyCoversRepository } from '../policy';

/** What the webhook answers: always a status and a small JSON body (never the bare-string form). */
export type WebhookResult = Exclude<LambdaFunctionURLResult, string>;

export interface WebhookDependencies {
  readonly environment: LambdaEnvironment;
  readonly secrets: Pick<SecretStore, 'get'>;
  readonly sqs: SQSClient;
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
 * parses the envelope, and queues one cleanup per pushed repository that the policy covers. It
 * answers fast, and never 5xx for bad input (the registry retries non-2xx forever); 503 only when
 * the queue or the secret cannot be reached, so that the registry retries that delivery.
 */
export function createWebhookHandler(deps: WebhookDependencies) {
  const { environment } = deps;
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
        { webhookToken },
      );
      if (decision.statusCode !== 202) {
        logger.warn('notification refused', { statusCode: decision.statusCode, reason: decision.message });
        return reply(decision.statusCode, decision.message);
      }
      const covered = decision.repositories.filter((entry) =>
        policyCoversRepository(environment.policy, entry.repository),
      );
      const queueUrl = environment.queueUrl as string;
      const result = await enqueueCleanups(deps.sqs, queueUrl, toCleanupMessages(covered));
      logger.info('notification accepted', {
        repositories: covered.map((entry) => entry.repository),
        notCovered: decision.repositories.length - covered.length,
        ignoredEvents: decision.ignored,
        queued: result.sent,
        failed: result.failed,
      });
      if (result.failed > 0) return reply(503, 'could not queue every repository; retry');
      return reply(202, decision.message, { queued: result.sent });
    } catch (error) {
      logger.error('notification not processed', { error: errorSummary(error) });
      return reply(503, 'temporarily unavailable; retry');
    }
  };
}

const environment = readEnvironment(process.env, { requireQueue: true });

/** The Lambda entry point; clients are created once per execution environment. */
export const handler = withLambdaContext(
  createWebhookHandler({
    environment,
    secrets: new SecretStore(new SecretsManagerClient({}), environment.secretArn),
    sqs: new SQSClient({}),
  }),
);
