import type { LambdaFunctionURLEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { PUSH_RECHECK_DELAYS_S } from '../../../lambda/aws/queue';
import type { WebhookResult } from '../../../lambda/handlers/webhook';
import { RegistryClient } from '../../../lambda/registry';
import { createWebhookServer, type WebhookServer } from '../../../bin/cli/serve';
import { compilePolicy } from '../../../lambda/policy';
import { loadEventFixture } from '../../fixtures/events';
import { startAwsFake, type AwsFake } from '../../helpers/aws-fake';
import { startGateProxy, type GateProxy } from '../../helpers/gate-proxy';
import { coldStart, lambdaEnv, TEST_SECRET_ARN } from '../../helpers/lambda';
import {
  pushNotification,
  PUSH_CONTENT_TYPE,
  startNotificationRelay,
  type NotificationRelay,
} from '../../helpers/notification-relay';
import { headDigestRaw, listTagsRaw, pushImage, retag, type PushedImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

const TOKEN = 'push-race-webhook-token-0123456789';
const DAY_MS = 86_400_000;
const daysAgo = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString();
const REPOSITORY = 'team/app';
const PROMOTED_PUT = `/v2/${REPOSITORY}/manifests/prod`;
// Builds keep 2: once main-3 exists, main-1 is superseded, and its digest is what `prod` gets.
const POLICY = compilePolicy({
  protect: ['latest'],
  rules: [{ name: 'builds', tags: 'main-\\d+', keep: 2 }],
});

/** A promise with its resolve function outside. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('CLI: regsweep serve (a push notified before the registry links its tag)', () => {
  let registry: RegistryProcess;
  let relay: NotificationRelay;
  let gate: GateProxy;
  let client: RegistryClient;
  let serve: WebhookServer | undefined;
  const lines: string[] = [];
  const lineWaiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const hook: { onPromotedPut?: () => Promise<void> } = {};

  /** Resolves with the first log line (already written or to come) that matches `pattern`. */
  const logged = (pattern: RegExp, after = 0): Promise<string> => {
    const line = lines.slice(after).find((text) => pattern.test(text));
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve) => lineWaiters.push({ pattern, resolve }));
  };

  beforeEach(async () => {
    lines.length = 0;
    relay = await startNotificationRelay();
    registry = await startRegistry({
      notifications: [
        {
          name: 'regsweep',
          url: relay.url,
          headers: { Authorization: [`Bearer ${TOKEN}`] },
          backoff: '100ms',
        },
      ],
    });
    // Everything regsweep and the promoting client send goes through the gate: it holds the PUT
    // that links `prod` while the test says so.
    gate = await startGateProxy(registry.url, async (request) => {
      if (request.method === 'PUT' && request.path === PROMOTED_PUT && hook.onPromotedPut)
        await hook.onPromotedPut();
    });
    client = new RegistryClient({ registry: gate.url });
  });

  /** Starts serve (in this process) with this schedule of looks again. */
  async function startServe(pushRecheckDelaysMs: readonly number[]): Promise<WebhookServer> {
    const options = {
      client,
      policy: POLICY,
      webhookToken: TOKEN,
      log: (line: string) => {
        lines.push(line);
        for (const waiter of [...lineWaiters])
          if (waiter.pattern.test(line)) {
            lineWaiters.splice(lineWaiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
      },
      // No settling wait: the run starts as soon as the notification is in.
      settleMs: 0,
      pushRecheckDelaysMs,
    };
    const started = createWebhookServer(options);
    serve = started;
    await new Promise<void>((resolve) => started.server.listen(0, '127.0.0.1', () => resolve()));
    return started;
  }

  afterEach(async () => {
    delete hook.onPromotedPut;
    await serve?.close();
    serve = undefined;
    await client.close();
    await gate.stop();
    await registry.stop();
    await relay.stop();
  });

  /** main-1..main-3, pushed (and notified) before serve listens to the registry. */
  async function pushBuilds(webhook: WebhookServer): Promise<PushedImage[]> {
    const builds: PushedImage[] = [];
    for (let n = 1; n <= 3; n += 1)
      builds.push(await pushImage(registry.url, REPOSITORY, `main-${n}`, { created: daysAgo(10 - n) }));
    await relay.pushed(REPOSITORY, 'main-3');
    relay.forwardTo(`${webhook.url()}/webhook`);
    return builds;
  }

  /**
   * When the PUT that links `prod` reaches the gate: posts the registry's notification of that
   * push to serve, resolves `firstRun` once serve has logged its run, then holds the PUT until
   * `released`.
   */
  function holdPromotion(
    webhook: WebhookServer,
    image: PushedImage,
    firstRun: { resolve: () => void },
    released: Promise<void>,
  ): void {
    hook.onPromotedPut = async () => {
      delete hook.onPromotedPut;
      const posted = await fetch(`${webhook.url()}/webhook`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': PUSH_CONTENT_TYPE },
        body: pushNotification(new URL(registry.url).host, {
          repository: REPOSITORY,
          tag: 'prod',
          digest: image.digest,
          mediaType: image.mediaType,
          size: image.bytes,
        }),
      });
      expect(posted.status).toBe(202);
      await logged(/^team\/app: /);
      firstRun.resolve();
      await released;
    };
  }

  it('never deletes the digest a promotion re-points a tag at, while the registry has not linked the tag yet', async () => {
    // Prepare: main-1 is superseded; `prod` is being promoted to main-1's digest. The registry
    // has stored the manifest (it is main-1's) and notified the push; its tag link is held back
    // at the gate until serve's run over that notification is over.
    const webhook = await startServe([100, 200, 400, 800, 1_600, 3_200, 6_400, 12_800]);
    const [main1] = await pushBuilds(webhook);
    const promoted = main1!.digest;
    const released = deferred();
    const firstRun = deferred();
    holdPromotion(webhook, main1!, firstRun, released.promise);

    // Act: promote (the PUT waits at the gate); once serve has cleaned, look, then let it through.
    const promotion = retag(gate.url, REPOSITORY, 'prod', promoted);
    await firstRun.promise;
    const firstLine = lines.find((line) => line.startsWith('team/app: '));
    // Assess: while the link was held, the promoted digest stayed (main-1 was not deleted).
    expect(await headDigestRaw(registry.url, REPOSITORY, promoted)).toBe(promoted);
    expect(await headDigestRaw(registry.url, REPOSITORY, 'prod')).toBeUndefined();
    expect(firstLine).toMatch(/0 deleted.*held until linked: prod/);

    // Act: let the link through. The registry's own notification of it (and serve's look again)
    // end in a run that finds prod linked: main-1 then shares a kept digest, and goes tag-only.
    released.resolve();
    await promotion;
    await relay.pushed(REPOSITORY, 'prod');
    await logged(/^team\/app: 0 deleted, 1 untagged/);

    // Assess: once linked, prod pulls main-1's image; main-1 itself went tag-only.
    expect(await headDigestRaw(registry.url, REPOSITORY, 'prod')).toBe(promoted);
    expect(await headDigestRaw(registry.url, REPOSITORY, promoted)).toBe(promoted);
    expect((await listTagsRaw(registry.url, REPOSITORY)).sort()).toEqual(['main-2', 'main-3', 'prod']);
  });

  it('goes on holding the digest after its last look, in the runs later pushes start, until the tag is linked', async () => {
    // Prepare: no looks again at all, so only other notifications start runs.
    const webhook = await startServe([]);
    const [main1, main2] = await pushBuilds(webhook);
    const promoted = main1!.digest;
    const released = deferred();
    const firstRun = deferred();
    holdPromotion(webhook, main1!, firstRun, released.promise);

    // Act: promote; while the link is held, a new build is pushed (and notified): its run has
    // main-1 and main-2 superseded.
    const promotion = retag(gate.url, REPOSITORY, 'prod', promoted);
    await firstRun.promise;
    expect(await headDigestRaw(registry.url, REPOSITORY, promoted)).toBe(promoted);
    await logged(/prod still does not resolve to .* still held/);
    await pushImage(registry.url, REPOSITORY, 'main-4', { created: daysAgo(1) });
    const secondRun = await logged(/^team\/app: 1 deleted/);

    // Assess: main-2 went, main-1's digest (prod's to be) stayed.
    expect(secondRun).toMatch(/held until linked: prod/);
    expect(await headDigestRaw(registry.url, REPOSITORY, promoted)).toBe(promoted);
    expect(await headDigestRaw(registry.url, REPOSITORY, main2!.digest)).toBeUndefined();

    // Act: let the link through; the registry's notification of it starts the run that sees it
    // (the relay passes that notification on once the PUT is answered: the registry notifies a
    // push before it links the tag, and no look again is scheduled here to catch that).
    relay.holdPushesOf(REPOSITORY, 'prod', promotion);
    released.resolve();
    await promotion;
    await logged(/^team\/app: 0 deleted, 1 untagged/);

    // Assess
    expect(await headDigestRaw(registry.url, REPOSITORY, 'prod')).toBe(promoted);
    expect((await listTagsRaw(registry.url, REPOSITORY)).sort()).toEqual(['main-3', 'main-4', 'prod']);
  });
});

type WebhookHandler = (event: LambdaFunctionURLEvent) => Promise<WebhookResult>;
type WorkerHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

describe('Handler: webhook → queue → worker (a push notified before the registry links its tag)', () => {
  let registry: RegistryProcess;
  let gate: GateProxy;
  let fake: AwsFake;
  const hook: { onPromotedPut?: () => Promise<void> } = {};

  beforeEach(async () => {
    registry = await startRegistry();
    gate = await startGateProxy(registry.url, async (request) => {
      if (request.method === 'PUT' && request.path === PROMOTED_PUT && hook.onPromotedPut)
        await hook.onPromotedPut();
    });
    fake = await startAwsFake({ secrets: { [TEST_SECRET_ARN]: JSON.stringify({ webhookToken: TOKEN }) } });
  });

  afterEach(async () => {
    delete hook.onPromotedPut;
    await gate.stop();
    await registry.stop();
    await fake.stop();
  });

  /** The queued message as the worker receives it, on its `receiveCount`-th receipt. */
  function received(body: string, receiveCount: number): SQSEvent {
    const template = loadEventFixture<SQSEvent>('sqs-cleanup-messages').Records[0] as SQSRecord;
    return {
      Records: [
        {
          ...template,
          messageId: 'promotion-message',
          receiptHandle: 'receipt-of-the-promotion-message',
          body,
          attributes: {
            ...template.attributes,
            MessageGroupId: REPOSITORY,
            ApproximateReceiveCount: String(receiveCount),
          },
        },
      ],
    };
  }

  it('holds the promoted digest and has the message received again until the tag is linked', async () => {
    // Prepare
    const builds: PushedImage[] = [];
    for (let n = 1; n <= 3; n += 1)
      builds.push(await pushImage(registry.url, REPOSITORY, `main-${n}`, { created: daysAgo(10 - n) }));
    const main1 = builds[0]!;
    const env = lambdaEnv(fake, gate.url, POLICY.document);
    const webhook = coldStart<WebhookHandler>('webhook', env);
    const worker = coldStart<WorkerHandler>('worker', env);
    const released = deferred();
    const firstRun = deferred();
    let first: SQSBatchResponse | undefined;
    let promotedWhileHeld: string | undefined;
    hook.onPromotedPut = async () => {
      delete hook.onPromotedPut;
      // The registry's notification reaches the Function URL, is queued, and the worker gets it.
      const template = loadEventFixture<LambdaFunctionURLEvent>('function-url-distribution-base64');
      const body = pushNotification(new URL(registry.url).host, {
        repository: REPOSITORY,
        tag: 'prod',
        digest: main1.digest,
        mediaType: main1.mediaType,
        size: main1.bytes,
      });
      const answer = await webhook.handler({
        ...template,
        headers: { ...template.headers, authorization: `Bearer ${TOKEN}`, 'content-type': PUSH_CONTENT_TYPE },
        body: Buffer.from(body).toString('base64'),
        isBase64Encoded: true,
      });
      expect(answer.statusCode).toBe(202);
      first = await worker.handler(received(fake.messages[0]!.body, 1));
      promotedWhileHeld = await headDigestRaw(registry.url, REPOSITORY, main1.digest);
      firstRun.resolve();
      await released.promise;
    };
    try {
      // Act: promote prod to main-1's digest; the tag link waits at the gate until the worker ran.
      const promotion = retag(gate.url, REPOSITORY, 'prod', main1.digest);
      await firstRun.promise;
      released.resolve();
      await promotion;
      const again = await worker.handler(received(fake.messages[0]!.body, 2));

      // Assess: the message named what was pushed; the first run deleted nothing that prod was
      // about to name, and had the message come back soon; the second run found prod linked.
      expect(promotedWhileHeld).toBe(main1.digest);
      expect(JSON.parse(fake.messages[0]!.body)).toMatchObject({
        pushed: [{ tag: 'prod', digest: main1.digest }],
      });
      expect(first?.batchItemFailures).toEqual([{ itemIdentifier: 'promotion-message' }]);
      expect(fake.visibilityChanges).toEqual([
        {
          queueUrl: fake.queueUrl(),
          receiptHandle: 'receipt-of-the-promotion-message',
          visibilityTimeout: PUSH_RECHECK_DELAYS_S[0],
        },
      ]);
      expect(again.batchItemFailures).toEqual([]);
      expect(await headDigestRaw(registry.url, REPOSITORY, 'prod')).toBe(main1.digest);
      expect((await listTagsRaw(registry.url, REPOSITORY)).sort()).toEqual(['main-2', 'main-3', 'prod']);
    } finally {
      worker.restore();
      webhook.restore();
    }
  });
});
