import type { LambdaFunctionURLEvent } from 'aws-lambda';
import fc from 'fast-check';
import { FIXTURE_WEBHOOK_TOKEN, loadEventFixture, type EventFixtureName } from '../../fixtures/events';
import { startAwsFake, type AwsFake } from '../../helpers/aws-fake';
import { coldStart, lambdaEnv, TEST_SECRET_ARN } from '../../helpers/lambda';
import type { WebhookResult } from '../../../lambda/handlers/webhook';

type Handler = (event: LambdaFunctionURLEvent) => Promise<WebhookResult>;

const POLICY = { rules: [{ name: 'apps', repositories: ['apps/**'], keep: 3 }] };
// The registry is never called by the webhook function: nothing listens on this port.
const REGISTRY = 'http://127.0.0.1:9';

function secret(webhookToken = FIXTURE_WEBHOOK_TOKEN): string {
  return JSON.stringify({ username: 'robot', password: 'robot-password-xyz', webhookToken });
}

function withBody(body: string, headers: Record<string, string> = {}): LambdaFunctionURLEvent {
  const base = loadEventFixture<LambdaFunctionURLEvent>('function-url-harbor-json');
  return { ...base, body, isBase64Encoded: false, headers: { ...base.headers, ...headers } };
}

describe('Handler: webhook', () => {
  let fake: AwsFake;
  let handler: Handler;
  let restore: () => void;

  beforeAll(async () => {
    fake = await startAwsFake({ secrets: { [TEST_SECRET_ARN]: secret() } });
    ({ handler, restore } = coldStart<Handler>('webhook', lambdaEnv(fake, REGISTRY, POLICY)));
  });

  afterAll(async () => {
    restore();
    await fake.stop();
  });

  beforeEach(() => {
    fake.messages.length = 0;
    fake.failEntries.clear();
    fake.failAll = undefined;
  });

  const queued = (): string[] => fake.messages.map((message) => JSON.parse(message.body).repository).sort();

  it('queues one message per pushed repository from a base64 distribution envelope', async () => {
    // Act
    const result = await handler(loadEventFixture('function-url-distribution-base64'));

    // Assess: apps/web and apps/api pushed; blobs, pulls, deletes, our own placeholder push and
    // hostile names were dropped.
    expect(result.statusCode).toBe(202);
    expect(queued()).toEqual(['apps/api', 'apps/web']);
    const web = fake.messages.find((message) => message.groupId === 'apps/web');
    expect(JSON.parse(web?.body ?? '{}')).toMatchObject({ repository: 'apps/web', trigger: 'push' });
    expect(web?.deduplicationId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('carries in each message the tags the events pushed, each with its digest', async () => {
    // Act
    await handler(loadEventFixture('function-url-distribution-base64'));

    // Assess: the registry notifies before it links a tag; the worker holds these digests.
    const pushed = Object.fromEntries(
      fake.messages.map((message) => {
        const body = JSON.parse(message.body) as { repository: string; pushed?: unknown };
        return [body.repository, body.pushed];
      }),
    );
    expect(pushed).toEqual({
      'apps/web': [
        {
          tag: 'main-1a2b3c4',
          digest: 'sha256:769b3caf35bfc73b270f28f14e38a4be078f05887d7e7a2eb902738f088df247',
        },
        { tag: 'v1.2.3', digest: 'sha256:3a9c391ac85a8e0cb3b915cd87124fe43503f2129ac1670909ab7a599e82ad7d' },
      ],
      'apps/api': [
        {
          tag: 'pr-42-0f1e2d3',
          digest: 'sha256:14c2529eb4498c5d1ffd6915d05bf58a91bdda796af59f41d480d11c099d0479',
        },
      ],
    });
  });

  it.each<[EventFixtureName, string[]]>([
    ['function-url-distribution-v2-base64', ['apps/worker']],
    ['function-url-harbor-json', ['apps/web']],
    ['function-url-harbor-cloudevents-base64', ['apps/web']],
  ])('accepts %s', async (fixture, repositories) => {
    const result = await handler(loadEventFixture(fixture));
    expect(result.statusCode).toBe(202);
    expect(queued()).toEqual(repositories);
  });

  it('gives the same deduplication id to a redelivery of the same events', async () => {
    await handler(loadEventFixture('function-url-distribution-base64'));
    await handler(loadEventFixture('function-url-distribution-base64'));
    const ids = fake.messages.filter((m) => m.groupId === 'apps/web').map((m) => m.deduplicationId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
  });

  it.each<[string, LambdaFunctionURLEvent, number]>([
    ['a wrong token', loadEventFixture('function-url-bad-token'), 401],
    ['a GET', loadEventFixture('function-url-get'), 405],
    ['malformed JSON', withBody('{"events": [', {}), 400],
    ['an unknown shape', withBody('{"hello": "world"}'), 400],
    ['a body over 1 MiB', withBody(`{"events":[],"pad":"${'x'.repeat(1024 * 1024)}"}`), 413],
    ['invalid base64', { ...withBody('%%%not-base64%%%'), isBase64Encoded: true }, 400],
  ])('answers %s with %s and queues nothing', async (_name, event, status) => {
    const result = await handler(event);
    expect(result.statusCode).toBe(status);
    expect(fake.messages).toHaveLength(0);
  });

  it('answers 503 (so the registry retries) when the queue refuses the messages', async () => {
    fake.failEntries.add('*');
    const result = await handler(loadEventFixture('function-url-harbor-json'));
    expect(result.statusCode).toBe(503);
  });

  it('reads the secret once, not on every delivery', async () => {
    const before = fake.calls.filter((call) => call === 'secretsmanager.GetSecretValue').length;
    await handler(loadEventFixture('function-url-harbor-json'));
    await handler(loadEventFixture('function-url-harbor-json'));
    const after = fake.calls.filter((call) => call === 'secretsmanager.GetSecretValue').length;
    expect(after - before).toBe(0);
  });

  it('never answers 5xx or throws for arbitrary bodies and headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.json(), fc.constant('{"events":[{"action":"push","target":{}}]}')),
        fc.boolean(),
        fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 40 }), { maxKeys: 5 }),
        fc.boolean(),
        async (body, base64, headers, withToken) => {
          const event = withBody(base64 ? Buffer.from(body).toString('base64') : body, {
            ...headers,
            ...(withToken && { authorization: `Bearer ${FIXTURE_WEBHOOK_TOKEN}` }),
          });
          const result = await handler({ ...event, isBase64Encoded: base64 });
          expect([202, 400, 401, 405, 413]).toContain(result.statusCode);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Handler: webhook configuration', () => {
  it('fails the cold start with one error naming each bad variable', async () => {
    const fake = await startAwsFake();
    try {
      const env = {
        ...lambdaEnv(fake, 'not a url', POLICY),
        REGSWEEP_QUEUE_URL: '',
        REGSWEEP_DRY_RUN: 'maybe',
      };
      expect(() => coldStart('webhook', env)).toThrow(/REGSWEEP_REGISTRY[\s\S]*REGSWEEP_DRY_RUN/);
      const badPolicy = {
        ...lambdaEnv(fake, REGISTRY, POLICY),
        REGSWEEP_POLICY: '{"rules":[{"name":"a","tags":"("}]}',
      };
      expect(() => coldStart('webhook', badPolicy)).toThrow(/REGSWEEP_POLICY: .*rules\[0\]\.tags/);
    } finally {
      await fake.stop();
    }
  });

  it('refuses every delivery with 503 while the secret has no webhookToken', async () => {
    const fake = await startAwsFake({
      secrets: { [TEST_SECRET_ARN]: JSON.stringify({ token: 'registry-token-abc' }) },
    });
    const { handler, restore } = coldStart<Handler>('webhook', lambdaEnv(fake, REGISTRY, POLICY));
    try {
      const result = await handler(loadEventFixture('function-url-harbor-json'));
      expect(result.statusCode).toBe(503);
      expect(fake.messages).toHaveLength(0);
    } finally {
      restore();
      await fake.stop();
    }
  });
});
