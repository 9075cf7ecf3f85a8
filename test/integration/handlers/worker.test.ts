import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { loadEventFixture } from '../../fixtures/events';
import { startAwsFake, type AwsFake } from '../../helpers/aws-fake';
import { coldStart, lambdaEnv, TEST_SECRET_ARN, workerFor } from '../../helpers/lambda';
import { headDigestRaw, listTagsRaw, pushImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

type Handler = (event: SQSEvent) => Promise<SQSBatchResponse>;

const DAY_MS = 86_400_000;
const daysAgo = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString();
const POLICY = {
  protect: ['latest'],
  rules: [{ name: 'builds', repositories: ['apps/**'], tags: 'main-\\d+', keep: 2 }],
};

/** An SQS event with one record per message body, in one FIFO group per repository. */
function sqsEvent(...bodies: Array<{ repository: string } | string>): SQSEvent {
  const template = loadEventFixture<SQSEvent>('sqs-cleanup-messages').Records[0] as SQSRecord;
  return {
    Records: bodies.map((body, index) => {
      const text =
        typeof body === 'string'
          ? body
          : JSON.stringify({ ...body, trigger: 'push', eventIds: [`e${index}`] });
      const group = typeof body === 'string' ? 'broken' : body.repository;
      return {
        ...template,
        messageId: `message-${index}`,
        body: text,
        attributes: { ...template.attributes, MessageGroupId: group },
      };
    }),
  };
}

/** Pushes main-1..main-N, one day apart; main-n's seed is `<repository>:main-n`. */
async function pushBuilds(url: string, repository: string, count: number): Promise<string[]> {
  const created: string[] = [];
  for (let n = 1; n <= count; n += 1) {
    created[n] = daysAgo(20 - n);
    await pushImage(url, repository, `main-${n}`, { created: created[n] });
  }
  return created;
}

describe('Handler: worker', () => {
  let registry: RegistryProcess;
  let fake: AwsFake;

  beforeEach(async () => {
    registry = await startRegistry();
    fake = await startAwsFake({
      secrets: { [TEST_SECRET_ARN]: JSON.stringify({ webhookToken: 'w'.repeat(32) }) },
    });
  });

  afterEach(async () => {
    await registry.stop();
    await fake.stop();
  });

  it('cleans the repository each message names and reports no failures', async () => {
    // Prepare
    const created = await pushBuilds(registry.url, 'apps/web', 4);
    const latest = await pushImage(registry.url, 'apps/web', 'latest', {
      seed: 'apps/web:main-1',
      created: created[1],
    });
    expect(await headDigestRaw(registry.url, 'apps/web', 'main-1')).toBe(latest.digest);
    const { handler, restore } = coldStart<Handler>('worker', lambdaEnv(fake, registry.url, POLICY));
    try {
      // Act
      const response = await handler(sqsEvent({ repository: 'apps/web' }));

      // Assess: main-1 shares its digest with latest: untagged, not deleted.
      expect(response.batchItemFailures).toEqual([]);
      expect((await listTagsRaw(registry.url, 'apps/web')).sort()).toEqual(['latest', 'main-3', 'main-4']);
      expect(await headDigestRaw(registry.url, 'apps/web', 'latest')).toBe(latest.digest);
    } finally {
      restore();
    }
  });

  it('removes nothing in dry-run mode', async () => {
    await pushBuilds(registry.url, 'apps/web', 4);
    const { handler, restore } = workerFor(fake, registry.url, POLICY, { REGSWEEP_DRY_RUN: 'true' });
    try {
      expect((await handler(sqsEvent({ repository: 'apps/web' }))).batchItemFailures).toEqual([]);
      expect(await listTagsRaw(registry.url, 'apps/web')).toHaveLength(4);
    } finally {
      await restore();
    }
  });

  it('only plans a message told of more pushes than a message carries (it cannot hold the rest)', async () => {
    // Prepare
    await pushBuilds(registry.url, 'apps/web', 4);
    const body = JSON.stringify({
      repository: 'apps/web',
      trigger: 'push',
      eventIds: ['e1'],
      pushed: [],
      pushedTruncated: true,
    });
    const { handler, restore } = workerFor(fake, registry.url, POLICY);
    try {
      // Act
      const response = await handler(sqsEvent(body));

      // Assess: nothing removed, and nothing to retry.
      expect(response.batchItemFailures).toEqual([]);
      expect(await listTagsRaw(registry.url, 'apps/web')).toHaveLength(4);
    } finally {
      await restore();
    }
  });

  it('reports only the failed message, and every later one of its FIFO group', async () => {
    // Prepare: a broken message first in its group, a good one for another repository.
    await pushBuilds(registry.url, 'apps/api', 3);
    const { handler, restore } = workerFor(fake, registry.url, POLICY);
    try {
      const event = sqsEvent('{"repository":"../etc"}', { repository: 'apps/api' });
      const extra = sqsEvent('{"repository":"apps/api","trigger":"push","eventIds":[]}')
        .Records[0] as SQSRecord;
      event.Records.push({
        ...extra,
        messageId: 'message-2',
        attributes: { ...extra.attributes, MessageGroupId: 'broken' },
      });

      // Act
      const response = await handler(event);

      // Assess
      expect(response.batchItemFailures).toEqual([
        { itemIdentifier: 'message-0' },
        { itemIdentifier: 'message-2' },
      ]);
      expect((await listTagsRaw(registry.url, 'apps/api')).sort()).toEqual(['main-2', 'main-3']);
    } finally {
      await restore();
    }
  });

  it('reports a message as failed when the registry cannot be reached, so it is retried', async () => {
    const { handler, restore } = workerFor(fake, 'http://127.0.0.1:9', POLICY);
    try {
      const response = await handler(sqsEvent({ repository: 'apps/web' }));
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'message-0' }]);
    } finally {
      await restore();
    }
  });
});

describe('Handler: worker with rotated credentials', () => {
  it('reads the secret again when the registry rejects the cached credentials', async () => {
    // Prepare: a Basic-auth registry; the worker warms up with the first password.
    const fake = await startAwsFake();
    const secretWith = (password: string): string => JSON.stringify({ username: 'robot', password });
    fake.secrets[TEST_SECRET_ARN] = secretWith('first-password-1');
    let registry = await startRegistry({ htpasswd: { username: 'robot', password: 'first-password-1' } });
    const { storageDir, port } = registry;
    const { handler, restore } = workerFor(fake, registry.url, POLICY);
    try {
      const first = { username: 'robot', password: 'first-password-1' };
      for (let n = 1; n <= 3; n += 1) {
        await pushImage(registry.url, 'apps/web', `main-${n}`, { created: daysAgo(20 - n), auth: first });
      }
      expect((await handler(sqsEvent({ repository: 'apps/web' }))).batchItemFailures).toEqual([]);

      // Act: rotate the password in the registry and in the secret, then run again (warm).
      await registry.stop({ keepStorage: true });
      registry = await startRegistry({
        htpasswd: { username: 'robot', password: 'second-password-2' },
        storageDir,
        port,
      });
      fake.secrets[TEST_SECRET_ARN] = secretWith('second-password-2');
      const second = { username: 'robot', password: 'second-password-2' };
      await pushImage(registry.url, 'apps/web', 'main-4', { created: daysAgo(1), auth: second });
      const reads = fake.calls.length;
      const response = await handler(sqsEvent({ repository: 'apps/web' }));

      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(fake.calls.length - reads).toBe(1);
      expect((await listTagsRaw(registry.url, 'apps/web', second)).sort()).toEqual(['main-3', 'main-4']);
    } finally {
      await restore();
      await registry.stop();
      await fake.stop();
    }
  });
});
