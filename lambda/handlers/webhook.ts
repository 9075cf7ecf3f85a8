import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { readEnvironment } from '../aws/environment';
import { ledgerStoreFor } from '../aws/ledger';
import { SecretStore } from '../aws/secrets';
import { withLambdaContext } from '../aws/telemetry';
import { createWebhookHandler } from './webhook-handler';

export { createWebhookHandler, type WebhookDependencies, type WebhookResult } from './webhook-handler';

/* The webhook function's entry point: configuration is read and clients (the ledger's among them)
 * are created once per execution environment; the handler (webhook-handler.ts) takes them as
 * dependencies, so tests need no process.env. */
const environment = readEnvironment(process.env, { requireQueue: true });
const ledger = ledgerStoreFor(environment);

/** The Lambda entry point. */
export const handler = withLambdaContext(
  createWebhookHandler({
    environment,
    secrets: new SecretStore(new SecretsManagerClient({}), environment.secretArn),
    sqs: new SQSClient({}),
    ...(ledger && { ledger }),
  }),
);
