import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, ScheduledEvent } from 'aws-lambda';

import { readEnvironment } from '../../../lambda/aws/environment';
import { createSweepHandler } from '../../../lambda/handlers/sweep-handler';
import { RegistryClient } from '../../../lambda/registry';
import { loadEventFixture } from '../../fixtures/events';
import { startAwsFake, type AwsFake } from '../../helpers/aws-fake';
import { coldStart, lambdaEnv, TEST_SECRET_ARN } from '../../helpers/lambda';
import { pushImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

type Handler = (
  event: ScheduledEvent,
  context?: Context,
) => Promise<{ repositoriesSeen: number; queued: number }>;

const POLICY = { rules: [{ name: 'apps', repositories: ['apps/**'], keep: 5 }] };

describe('Handler: sweep', () => {
  let registry: RegistryProcess;
  let fake: AwsFake;

  beforeAll(async () => {
    // A small catalog page, so the sweep must follow the Link header.
    registry = await startRegistry({ catalogMaxEntries: 2 });
    fake = await startAwsFake({ secrets: { [TEST_SECRET_ARN]: JSON.stringify({}) } });
    for (const repository of ['apps/web', 'apps/api', 'apps/team/worker', 'tools/ci', 'base/debian']) {
      await pushImage(registry.url, repository, 'v1');
    }
  });

  afterAll(async () => {
    await registry.stop();
    await fake.stop();
  });

  it('queues every repository a rule covers, one message group each', async () => {
    // Prepare: the handler's factory with its dependencies injected (no process.env, no cold start)
    const environment = readEnvironment(lambdaEnv(fake, registry.url, POLICY), { requireQueue: true });
    const client = new RegistryClient({ registry: registry.url });
    const sqs = new SQSClient({
      endpoint: fake.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDFAKEFORTESTS', secretAccessKey: 'fake-secret-for-tests' },
    });
    const handler = createSweepHandler({ environment, client, sqs });
    try {
      // Act
      const summary = await handler(loadEventFixture('eventbridge-scheduled'));

      // Assess
      expect(summary).toEqual({ repositoriesSeen: 5, queued: 3 });
      const bodies = fake.messages.map((message) => JSON.parse(message.body));
      expect(bodies.map((body) => body.repository).sort()).toEqual([
        'apps/api',
        'apps/team/worker',
        'apps/web',
      ]);
      expect(bodies.every((body) => body.trigger === 'schedule')).toBe(true);
      expect(fake.messages.map((message) => message.groupId).sort()).toEqual([
        'apps/api',
        'apps/team/worker',
        'apps/web',
      ]);

      // A retried invocation of the same schedule event carries the same deduplication ids.
      const firstIds = fake.messages.map((message) => message.deduplicationId).sort();
      fake.messages.length = 0;
      await handler(loadEventFixture('eventbridge-scheduled'));
      expect(fake.messages.map((message) => message.deduplicationId).sort()).toEqual(firstIds);
    } finally {
      sqs.destroy();
      await client.close();
    }
  });

  it('cold start: reads its environment and writes its log lines with the invocation context', async () => {
    // Prepare
    const env = lambdaEnv(fake, registry.url, POLICY, { POWERTOOLS_LOG_LEVEL: 'INFO' });
    const { handler, restore } = coldStart<Handler>('sweep', env);
    const context = {
      awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
      functionName: 'regsweep-sweep',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:regsweep-sweep',
      memoryLimitInMB: '256',
    } as Context;
    const write = process.stdout.write.bind(process.stdout);
    let output = '';
    process.stdout.write = ((chunk: string | Uint8Array): boolean => {
      output += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      return true;
    }) as typeof process.stdout.write;
    try {
      // Act
      await handler(loadEventFixture('eventbridge-scheduled'), context);
    } finally {
      process.stdout.write = write;
      restore();
    }

    // Assess
    const line = output
      .split('\n')
      .filter((text) => text.startsWith('{'))
      .map((text) => JSON.parse(text) as Record<string, unknown>)
      .find((entry) => entry.message === 'scheduled sweep queued');
    expect(line).toMatchObject({
      function_request_id: context.awsRequestId,
      function_name: 'regsweep-sweep',
    });
  });
});
