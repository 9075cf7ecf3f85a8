import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { readEnvironment } from '../aws/environment';
import { ledgerStoreFor } from '../aws/ledger';
import { registryClientFor } from '../aws/registry';
import { SecretStore } from '../aws/secrets';
import { withLambdaContext } from '../aws/telemetry';
import { createSweepHandler } from './sweep-handler';

export { createSweepHandler, type SweepDependencies, type SweepSummary } from './sweep-handler';

/* The sweep function's entry point: configuration is read and clients are created at cold start;
 * the handler itself (sweep-handler.ts) takes them as dependencies, so tests need no process.env. */
const environment = readEnvironment(process.env, { requireQueue: true });
const secrets = new SecretStore(new SecretsManagerClient({}), environment.secretArn);
const ledger = ledgerStoreFor(environment);

/** The Lambda entry point. */
export const handler = withLambdaContext(
  createSweepHandler({
    environment,
    client: registryClientFor(environment, secrets),
    sqs: new SQSClient({}),
    ...(ledger && { ledger }),
  }),
);
