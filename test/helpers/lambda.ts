import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';

import { readEnvironment } from '../../lambda/aws/environment';
import { registryClientFor } from '../../lambda/aws/registry';
import { SecretStore } from '../../lambda/aws/secrets';
import { logger } from '../../lambda/aws/telemetry';
import { createWorkerHandler } from '../../lambda/handlers/worker-handler';
import { compilePolicy } from '../../lambda/policy';
import type { AwsFake } from './aws-fake';

/** A Secrets Manager ARN for tests (the fake answers whatever ARN it is given). */
export const TEST_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:regsweep-test-AbCdEf';

/** The environment of a deployed function, pointed at the fake and a registry. */
export function lambdaEnv(
  fake: AwsFake,
  registry: string,
  policy: unknown,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...fake.env(),
    REGSWEEP_REGISTRY: registry,
    REGSWEEP_POLICY: JSON.stringify(compilePolicy(policy).document),
    REGSWEEP_SECRET_ARN: TEST_SECRET_ARN,
    REGSWEEP_QUEUE_URL: fake.queueUrl(),
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
    // Lambda runs Node 22; this machine's Node 20 only earns the SDK's upgrade notice.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
}

/**
 * Imports a handler module afresh with `env` in `process.env`, as a cold start would (its
 * configuration is read at import). The variables stay set until the returned `restore` runs:
 * the AWS SDK reads endpoint settings lazily, on the first call.
 */
export function coldStart<T>(
  module: 'webhook' | 'worker' | 'sweep',
  env: Record<string, string>,
): { handler: T; restore: () => void } {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const restore = (): void => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  };
  try {
    let loaded: { handler: T } | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require(`../../lambda/handlers/${module}`) as { handler: T };
    });
    return { handler: (loaded as { handler: T }).handler, restore };
  } catch (error) {
    restore();
    throw error;
  }
}

/** The SDK client settings that point a client at the fake (endpoint, region, fake keys), no env. */
export function fakeClientConfig(fake: AwsFake): {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
} {
  return {
    endpoint: fake.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDFAKEFORTESTS', secretAccessKey: 'fake-secret-for-tests' },
  };
}

/** The worker's handler as its factory makes it. */
export type WorkerHandler = (
  event: SQSEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
) => Promise<SQSBatchResponse>;

/**
 * The worker made by `createWorkerHandler` with its dependencies injected and wired as its entry
 * point wires them (the secret store behind the registry client's credentials, so a rotated
 * secret is read again), without touching `process.env`. `restore` releases the clients.
 */
export function workerFor(
  fake: AwsFake,
  registry: string,
  policy: unknown,
  extra: Record<string, string> = {},
): { handler: WorkerHandler; restore: () => Promise<void> } {
  const environment = readEnvironment(lambdaEnv(fake, registry, policy, extra), { requireQueue: true });
  // The log level a cold start reads from POWERTOOLS_LOG_LEVEL (lambdaEnv: ERROR, unless `extra` says).
  logger.setLogLevel((extra.POWERTOOLS_LOG_LEVEL ?? 'ERROR') as 'ERROR');
  const secretsClient = new SecretsManagerClient(fakeClientConfig(fake));
  const client = registryClientFor(environment, new SecretStore(secretsClient, environment.secretArn));
  const sqs = new SQSClient(fakeClientConfig(fake));
  return {
    handler: createWorkerHandler({ environment, client, sqs }),
    restore: async () => {
      sqs.destroy();
      secretsClient.destroy();
      await client.close();
    },
  };
}
