import { createServer } from 'node:http';

import { SQSClient } from '@aws-sdk/client-sqs';
import type { LambdaFunctionURLEvent, SQSEvent, SQSRecord } from 'aws-lambda';

import { ConfigurationError, readEnvironment } from '../../../lambda/aws/environment';
import { MANIFEST_ACCEPT, type Digest } from '../../../lambda/domain';
import { createWebhookHandler, type WebhookResult } from '../../../lambda/handlers/webhook-handler';
import { createWorkerHandler } from '../../../lambda/handlers/worker-handler';
import { DynamoDbLedgerStore } from '../../../lambda/ledger';
import { RegistryClient } from '../../../lambda/registry';
import { FIXTURE_WEBHOOK_TOKEN, loadEventFixture } from '../../fixtures/events';
import { startAwsFake, type AwsFake } from '../../helpers/aws-fake';
import { startDynalite, type Dynalite } from '../../../tools/dynalite';
import { startGateProxy } from '../../helpers/gate-proxy';
import { lambdaEnv } from '../../helpers/lambda';
import { daysAgo } from '../../helpers/registry-fixture';
import { rawRequest } from '../../../tools/raw-http';
import { deleteManifestRaw, listTagsRaw, pushImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';
import { listenOnLoopback } from '../../../tools/ports';

const TABLE = 'regsweep-ledger';
/** A reproducible build's `created`: the same for every build, so only push time can rank them. */
const REPRODUCIBLE = '1970-01-01T00:00:00Z';
const CLIENT_AGENT = 'containerd/2.0.0';
const SCANNER_AGENT = 'Trivy/0.50.1';
const POLICY = {
  rules: [
    { name: 'nightly', repositories: ['apps/nightly'], tags: 'nightly-\\d+', order: 'pushed', keep: 2 },
    {
      name: 'builds',
      repositories: ['apps/web'],
      tags: 'build-.+',
      olderThan: '7d',
      keepPulledWithin: '30d',
    },
  ],
  ledger: { ignorePullsFrom: ['^Trivy/'] },
};

/** One event of a notification the webhook answered, as the registry posted it. */
interface PostedEvent {
  readonly action?: string;
  readonly target?: { readonly repository?: string; readonly tag?: string; readonly digest?: string };
  readonly request?: { readonly useragent?: string };
}

/** A Function URL on 127.0.0.1: each post becomes a payload 2.0 event for the webhook handler. */
interface FunctionUrl {
  readonly url: string;
  /** The status the handler answered to each post, in order. */
  readonly statuses: number[];
  /** Resolves once the handler has answered a post holding an event that `matches`. */
  handled(matches: (event: PostedEvent) => boolean): Promise<void>;
  stop(): Promise<void>;
}

async function startFunctionUrl(
  handler: () => (event: LambdaFunctionURLEvent) => Promise<WebhookResult>,
): Promise<FunctionUrl> {
  const template = loadEventFixture<LambdaFunctionURLEvent>('function-url-distribution-base64');
  const answered: PostedEvent[] = [];
  const statuses: number[] = [];
  const waiters: Array<{ matches: (event: PostedEvent) => boolean; resolve: () => void }> = [];
  const server = createServer((request, response) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers))
        if (typeof value === 'string') headers[name] = value;
      // A Function URL hands the registry's `application/vnd.*` bodies over base64-encoded.
      const result = await handler()({
        ...template,
        headers,
        body: body.toString('base64'),
        isBase64Encoded: true,
        requestContext: {
          ...template.requestContext,
          http: { ...template.requestContext.http, method: request.method ?? 'POST' },
        },
      });
      statuses.push(result.statusCode ?? 0);
      const events = (JSON.parse(body.toString('utf8')) as { events?: PostedEvent[] }).events ?? [];
      answered.push(...events);
      response.writeHead(result.statusCode ?? 500).end(result.body);
      for (const waiter of [...waiters])
        if (events.some(waiter.matches)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
    })().catch(() => response.writeHead(500).end());
  });
  const origin = await listenOnLoopback(server);
  return {
    url: `${origin}/`,
    statuses,
    handled: (matches) =>
      answered.some(matches)
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ matches, resolve })),
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const pushOf = (repository: string, tag: string) => (event: PostedEvent) =>
  event.action === 'push' && event.target?.repository === repository && event.target.tag === tag;
const pullOf = (digest: string, agent: string | RegExp) => (event: PostedEvent) =>
  event.action === 'pull' &&
  event.target?.digest === digest &&
  (typeof agent === 'string'
    ? event.request?.useragent === agent
    : agent.test(event.request?.useragent ?? ''));
const deleteOf = (digest: string) => (event: PostedEvent) =>
  event.action === 'delete' && event.target?.digest === digest;

/**
 * Collects (and keeps off the console) the JSON lines written to stdout and stderr (the logger's
 * warnings and errors go there) until `stop()`.
 */
function captureStdout(): { lines: Array<Record<string, unknown>>; stop(): void } {
  const lines: Array<Record<string, unknown>> = [];
  const restores = [process.stdout, process.stderr].map((stream) => {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      for (const line of text.split('\n'))
        if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
      return text.trimStart().startsWith('{') ? true : original(chunk, ...(rest as []));
    }) as typeof stream.write;
    return () => void (stream.write = original);
  });
  let stopped = false;
  return {
    lines,
    stop: () => {
      if (stopped) return;
      stopped = true;
      for (const restore of restores) restore();
    },
  };
}

/** The queued messages, the last one per repository, as the worker receives them. */
function lastMessages(fake: AwsFake): SQSEvent {
  const template = loadEventFixture<SQSEvent>('sqs-cleanup-messages').Records[0] as SQSRecord;
  const last = new Map(fake.messages.map((message) => [message.groupId, message]));
  return {
    Records: [...last.values()].map((message, index) => ({
      ...template,
      messageId: `message-${index}`,
      body: message.body,
      attributes: { ...template.attributes, MessageGroupId: message.groupId ?? '' },
    })),
  };
}

describe('Function: readEnvironment (REGSWEEP_LEDGER_TABLE)', () => {
  const base = {
    REGSWEEP_REGISTRY: 'https://registry.example.com',
    REGSWEEP_POLICY: JSON.stringify(POLICY),
    REGSWEEP_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:regsweep-AbCdEf',
    REGSWEEP_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/regsweep.fifo',
  };
  const errorOf = (env: Record<string, string>): string => {
    try {
      readEnvironment(env, { requireQueue: true });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError);
      return (error as Error).message;
    }
    throw new Error('expected a ConfigurationError');
  };

  it('gives the functions the ledger table when the variable is set', () => {
    // Act
    const environment = readEnvironment({ ...base, REGSWEEP_LEDGER_TABLE: TABLE }, { requireQueue: true });

    // Assess
    expect(environment.ledgerTable).toBe(TABLE);
  });

  it('refuses a policy that needs a ledger without the variable, naming each field and what to set', () => {
    // Act
    const message = errorOf(base);

    // Assess
    expect(message).toContain('REGSWEEP_POLICY: rules[0].order needs a ledger: set REGSWEEP_LEDGER_TABLE');
    expect(message).toContain('rules[1].keepPulledWithin needs a ledger');
  });

  it('accepts a policy without ledger fields and no table: no ledger', () => {
    // Act
    const environment = readEnvironment(
      { ...base, REGSWEEP_POLICY: JSON.stringify({ rules: [{ name: 'all', keep: 3 }] }) },
      { requireQueue: true },
    );

    // Assess
    expect(environment.ledgerTable).toBeUndefined();
  });

  it('refuses a value that is no DynamoDB table name', () => {
    // Act
    const message = errorOf({ ...base, REGSWEEP_LEDGER_TABLE: 'a b' });

    // Assess
    expect(message).toContain('REGSWEEP_LEDGER_TABLE: must be a DynamoDB table name');
  });
});

describe('Handlers: webhook and worker with the ledger (DynamoDB)', () => {
  let dynalite: Dynalite;
  let fake: AwsFake;

  beforeAll(async () => {
    [dynalite, fake] = await Promise.all([startDynalite(), startAwsFake()]);
    await dynalite.createLedgerTable(TABLE);
  });

  afterAll(async () => {
    await Promise.all([dynalite?.stop(), fake?.stop()]);
  });

  beforeEach(() => {
    fake.messages.length = 0;
  });

  const sqs = () =>
    new SQSClient({
      endpoint: fake.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDFAKEFORTESTS', secretAccessKey: 'fake-secret-for-tests' },
    });
  const secrets = { get: async () => ({ webhookToken: FIXTURE_WEBHOOK_TOKEN }) };

  describe('with a real registry posting its notifications', () => {
    let registry: RegistryProcess;
    let functionUrl: FunctionUrl;
    let ledger: DynamoDbLedgerStore;
    let webhook: ((event: LambdaFunctionURLEvent) => Promise<WebhookResult>) | undefined;
    let output: ReturnType<typeof captureStdout>;

    beforeAll(async () => {
      // Until the registry stops: it still posts the worker's own reads and removals meanwhile.
      output = captureStdout();
      functionUrl = await startFunctionUrl(() => {
        if (!webhook) throw new Error('the webhook handler is not ready');
        return webhook;
      });
      registry = await startRegistry({
        notifications: [
          {
            name: 'regsweep',
            url: functionUrl.url,
            headers: { Authorization: [`Bearer ${FIXTURE_WEBHOOK_TOKEN}`] },
            timeout: '10s',
            // Blob events cost a post each and are not ledger events, as in the stack's config.
          },
        ],
      });
      ledger = new DynamoDbLedgerStore({ tableName: TABLE, clientConfig: dynalite.clientConfig });
      const environment = readEnvironment(
        lambdaEnv(fake, registry.url, POLICY, { REGSWEEP_LEDGER_TABLE: TABLE }),
        { requireQueue: true },
      );
      webhook = createWebhookHandler({ environment, secrets, sqs: sqs(), ledger });
    });

    afterAll(async () => {
      await registry?.stop();
      await functionUrl?.stop();
      await ledger?.close();
      output?.stop();
    });

    it('ranks reproducible builds by push time, keeps a build pulled by a client, not one only regsweep and a scanner pulled', async () => {
      // Prepare: nightly builds, all created in 1970, pushed newest name first: by name (or by
      // created, a tie) nightly-3 and -4 would stay; by push, -2 and -1 were pushed last.
      for (const n of [4, 3, 2, 1]) {
        await pushImage(registry.url, 'apps/nightly', `nightly-${n}`, { created: REPRODUCIBLE });
        // Each push reaches the ledger before the next: distinct push times.
        await functionUrl.handled(pushOf('apps/nightly', `nightly-${n}`));
      }
      const digests: Record<string, Digest> = {};
      for (const [tag, days] of [
        ['build-used', 40],
        ['build-scanned', 40],
        ['build-idle', 40],
        ['build-gone', 40],
        ['build-new', 1],
      ] as const) {
        digests[tag] = (await pushImage(registry.url, 'apps/web', tag, { created: daysAgo(days) })).digest;
        await functionUrl.handled(pushOf('apps/web', tag));
      }
      // A client pulls build-used; only a scanner and regsweep itself read build-scanned.
      const pull = (tag: string, agent: string) =>
        rawRequest(`${registry.url}/v2/apps/web/manifests/${tag}`, {
          headers: { accept: MANIFEST_ACCEPT.join(', '), 'user-agent': agent },
        });
      await pull('build-used', CLIENT_AGENT);
      await pull('build-scanned', SCANNER_AGENT);
      const regsweep = new RegistryClient({ registry: registry.url });
      await regsweep.getManifest('apps/web', 'build-scanned');
      await Promise.all([
        functionUrl.handled(pullOf(digests['build-used'], CLIENT_AGENT)),
        functionUrl.handled(pullOf(digests['build-scanned'], SCANNER_AGENT)),
        functionUrl.handled(pullOf(digests['build-scanned'], /^regsweep\//)),
      ]);
      // The webhook recorded the client's pull, not the scanner's or regsweep's own.
      const pulled = await ledger.getManifests('apps/web', [digests['build-used'], digests['build-scanned']]);
      expect(pulled.get(digests['build-used'])?.lastPulledAt).toBeInstanceOf(Date);
      expect(pulled.get(digests['build-scanned'])?.lastPushedAt).toBeInstanceOf(Date);
      expect(pulled.get(digests['build-scanned'])?.lastPulledAt).toBeUndefined();
      // Someone else deletes build-gone: only its delete notification tells the ledger.
      expect(await deleteManifestRaw(registry.url, 'apps/web', digests['build-gone'])).toBe(202);
      await functionUrl.handled(deleteOf(digests['build-gone']));
      const worker = createWorkerHandler({
        environment: readEnvironment(
          lambdaEnv(fake, registry.url, POLICY, { REGSWEEP_LEDGER_TABLE: TABLE }),
          {
            requireQueue: true,
          },
        ),
        client: regsweep,
        sqs: sqs(),
        ledger,
      });

      try {
        // Act: the worker cleans what the webhook queued.
        const response = await worker(lastMessages(fake));

        // Assess: the registry answered 202 to every notification; only pushes were queued.
        expect(response.batchItemFailures).toEqual([]);
        expect(new Set(functionUrl.statuses)).toEqual(new Set([202]));
        expect((await listTagsRaw(registry.url, 'apps/nightly')).sort()).toEqual(['nightly-1', 'nightly-2']);
        expect((await listTagsRaw(registry.url, 'apps/web')).sort()).toEqual(['build-new', 'build-used']);
        // The foreign delete reached the ledger through the webhook...
        expect(await ledger.getTag('apps/web', 'build-gone')).toBeUndefined();
        expect((await ledger.listManifests('apps/web')).map((manifest) => manifest.digest)).not.toContain(
          digests['build-gone'],
        );
        // ...and the worker archived each removed manifest before removing it.
        expect((await ledger.latestRemovalOfTag('apps/nightly', 'nightly-4'))?.body.length).toBeGreaterThan(
          0,
        );
        expect((await ledger.latestRemovalOfTag('apps/web', 'build-scanned'))?.body.length).toBeGreaterThan(
          0,
        );
        // The webhook logged and counted what it recorded, and lost nothing.
        // (A post of blob events only has no manifest event to record.)
        const recorded = output.lines.filter(
          (line) => line.message === 'notification accepted' && line.ledger !== undefined,
        );
        expect(recorded.length).toBeGreaterThan(0);
        for (const line of recorded) expect(line.ledger).toMatchObject({ lost: 0 });
        const metrics = output.lines.filter((line) => 'LedgerEventsRecorded' in line);
        expect(
          metrics.reduce((sum, line) => sum + Number(line.LedgerEventsRecorded), 0),
        ).toBeGreaterThanOrEqual(13);
        expect(metrics.every((line) => line.LedgerEventsLost === 0)).toBe(true);
      } finally {
        await regsweep.close();
      }
    });
  });

  describe('with a ledger that fails or is slow', () => {
    const environment = () =>
      readEnvironment(lambdaEnv(fake, 'http://127.0.0.1:9', POLICY, { REGSWEEP_LEDGER_TABLE: TABLE }), {
        requireQueue: true,
      });

    it('answers 202 and queues the pushes when the table is missing, logging the events lost and why', async () => {
      // Prepare
      const ledger = new DynamoDbLedgerStore({
        tableName: 'no-such-table',
        clientConfig: dynalite.clientConfig,
      });
      const handler = createWebhookHandler({ environment: environment(), secrets, sqs: sqs(), ledger });
      const output = captureStdout();

      try {
        // Act
        const result = await handler(loadEventFixture('function-url-distribution-base64'));

        // Assess
        output.stop();
        expect(result.statusCode).toBe(202);
        // (apps/api is pushed too, but no rule covers it.)
        expect(fake.messages.map((message) => message.groupId)).toEqual(['apps/web']);
        const lost = output.lines.find((line) => String(line.message).startsWith('ledger events lost'));
        expect(lost).toMatchObject({ recorded: 0, lost: expect.any(Number) });
        expect(Number(lost?.lost)).toBeGreaterThan(0);
        expect(String(lost?.reason)).toMatch(/no-such-table|non-existent|not found/i);
      } finally {
        output.stop();
        await ledger.close();
      }
    });

    it('answers 202 once the recording budget is spent, when the ledger does not answer', async () => {
      // Prepare: every DynamoDB request is held until the test lets it go.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const gate = await startGateProxy(dynalite.endpoint, () => held);
      const ledger = new DynamoDbLedgerStore({
        tableName: TABLE,
        clientConfig: { ...dynalite.clientConfig, endpoint: gate.url },
      });
      const handler = createWebhookHandler({
        environment: environment(),
        secrets,
        sqs: sqs(),
        ledger,
        recordBudgetMs: 50,
      });
      const output = captureStdout();

      try {
        // Act
        const result = await handler(loadEventFixture('function-url-distribution-base64'));

        // Assess: answered without the ledger; every event is counted lost, with the reason.
        output.stop();
        expect(result.statusCode).toBe(202);
        expect(fake.messages.map((message) => message.groupId)).toEqual(['apps/web']);
        const accepted = output.lines.find((line) => line.message === 'notification accepted');
        expect(accepted?.ledger).toMatchObject({ recorded: 0, error: 'the ledger took longer than 50 ms' });
        const metrics = output.lines.find((line) => 'LedgerEventsLost' in line);
        expect(Number(metrics?.LedgerEventsLost)).toBeGreaterThan(0);
        expect(gate.requests).toBeGreaterThan(0);
      } finally {
        output.stop();
        release();
        await ledger.close();
        await gate.stop();
      }
    });
  });
});
