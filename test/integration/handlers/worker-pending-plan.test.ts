import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';

import { DEADLINE_MARGIN_MS } from '../../../lambda/aws/deadline';
import { readEnvironment } from '../../../lambda/aws/environment';
import { logger } from '../../../lambda/aws/telemetry';
import type { Digest } from '../../../lambda/domain';
import { createWorkerHandler } from '../../../lambda/handlers/worker-handler';
import { DynamoDbLedgerStore } from '../../../lambda/ledger';
import { RegistryClient } from '../../../lambda/registry';
import { loadEventFixture } from '../../fixtures/events';
import { startAwsFake, type AwsFake } from '../../helpers/aws-fake';
import { fakeClientConfig, lambdaEnv } from '../../helpers/lambda';
import { startDynalite, type Dynalite } from '../../../tools/dynalite';
import { headDigestRaw, listTagsRaw, pushImage, retag } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

const TABLE = 'regsweep-pending';
const DAY_MS = 86_400_000;
const daysAgo = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString();
const REPOSITORY = 'apps/big';
const POLICY = { rules: [{ name: 'builds', tags: 'main-\\d+', keep: 1 }] };

/** One queued message, as the worker receives it (`receiveCount`: how often SQS handed it out). */
function received(body: string, messageId: string, receiveCount = 1): SQSEvent {
  const template = loadEventFixture<SQSEvent>('sqs-cleanup-messages').Records[0] as SQSRecord;
  const attributes = {
    ...template.attributes,
    MessageGroupId: REPOSITORY,
    ApproximateReceiveCount: String(receiveCount),
  };
  return { Records: [{ ...template, messageId, body, attributes }] };
}

/** A context whose remaining time falls by one margin per read (see worker-deadline.test.ts). */
function fallingDeadline(startMs: number): Pick<Context, 'getRemainingTimeInMillis'> {
  let reads = 0;
  return { getRemainingTimeInMillis: () => startMs - DEADLINE_MARGIN_MS * reads++ };
}

const plenty: Pick<Context, 'getRemainingTimeInMillis'> = { getRemainingTimeInMillis: () => 15 * 60_000 };

describe('Handler: worker (a continuation carries out the rest of its plan)', () => {
  let registry: RegistryProcess;
  let dynalite: Dynalite;
  let fake: AwsFake;
  let ledger: DynamoDbLedgerStore;
  let client: RegistryClient;
  let sqs: SQSClient;
  let table = 0;

  beforeAll(async () => {
    dynalite = await startDynalite();
  });

  afterAll(async () => {
    await dynalite?.stop();
  });

  beforeEach(async () => {
    [registry, fake] = await Promise.all([startRegistry(), startAwsFake()]);
    table += 1;
    await dynalite.createLedgerTable(`${TABLE}-${table}`);
    ledger = new DynamoDbLedgerStore({ tableName: `${TABLE}-${table}`, clientConfig: dynalite.clientConfig });
    client = new RegistryClient({ registry: registry.url });
    sqs = new SQSClient(fakeClientConfig(fake));
    // main-1 (oldest) … main-6 (newest): keep 1 plans five removals.
    for (let n = 1; n <= 6; n += 1)
      await pushImage(registry.url, REPOSITORY, `main-${n}`, { created: daysAgo(20 - n) });
  });

  afterEach(async () => {
    sqs.destroy();
    await client.close();
    await ledger.close();
    await Promise.all([registry.stop(), fake.stop()]);
  });

  function worker(policy: unknown = POLICY) {
    const environment = readEnvironment(
      lambdaEnv(fake, registry.url, policy, { REGSWEEP_LEDGER_TABLE: `${TABLE}-${table}` }),
      { requireQueue: true },
    );
    logger.setLogLevel('ERROR');
    return createWorkerHandler({ environment, client, sqs, ledger });
  }

  /** Runs the first invocation, stopped after four removals (main-5 not started); its continuation. */
  async function stoppedAfterFour(): Promise<string> {
    const body = JSON.stringify({
      repository: REPOSITORY,
      trigger: 'schedule',
      eventIds: [],
      runId: 'run-7',
    });
    // Reads 1 and 2 (invocation, message) leave time, reads 3 to 6 start main-1..main-4.
    const first = await worker()(received(body, 'first'), fallingDeadline(DEADLINE_MARGIN_MS * 6.5));
    expect(first.batchItemFailures).toEqual([]);
    expect((await listTagsRaw(registry.url, REPOSITORY)).sort()).toEqual(['main-5', 'main-6']);
    expect(fake.messages).toHaveLength(1);
    return fake.messages[0]?.body ?? '{}';
  }

  it('leaves the removals it did not start in the ledger, and the continuation carries them out without planning again', async () => {
    // Prepare: the first invocation stops; then a newer build is pushed.
    const continuation = await stoppedAfterFour();
    const message = JSON.parse(continuation) as { plan?: string };
    await pushImage(registry.url, REPOSITORY, 'main-7', { created: daysAgo(1) });
    const before = { ...client.stats };

    // Act
    const second = await worker()(received(continuation, 'continuation'), plenty);

    // Assess: the message names the pending plan, which holds main-5's removal alone...
    expect(message.plan).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(await ledger.getPendingPlan(message.plan as string)).toMatchObject({ repository: REPOSITORY });
    // ...and the continuation removed main-5 and nothing the first plan kept: main-6 stays (a plan
    // made now would remove it, main-7 being newer), as does main-7, pushed since.
    expect(second.batchItemFailures).toEqual([]);
    expect((await listTagsRaw(registry.url, REPOSITORY)).sort()).toEqual(['main-6', 'main-7']);
    expect(fake.messages).toHaveLength(1);
    // No planning: no manifest or config read; one HEAD per tag that could hold main-5's digest
    // (main-6, main-7), one tag list to re-verify and one to check the removal, one DELETE.
    const sent = (kind: keyof typeof before): number => client.stats[kind] - before[kind];
    expect(sent('get-manifest')).toBe(0);
    expect(sent('get-blob')).toBe(0);
    expect(sent('head-manifest')).toBe(2);
    expect(sent('tags')).toBe(2);
    expect(sent('delete-manifest')).toBe(1);
  });

  it('re-verifies the carried removals: a kept tag moved onto a planned digest keeps it, a tag pushed again keeps its new image', async () => {
    // Prepare: stop after main-1..4 with main-5 and main-6 left; then main-6 (kept) is re-pointed at
    // main-5's image, and main-5 itself is pushed again onto a new one.
    await pushImage(registry.url, REPOSITORY, 'main-0', { created: daysAgo(30) });
    const body = JSON.stringify({
      repository: REPOSITORY,
      trigger: 'schedule',
      eventIds: [],
      runId: 'run-8',
    });
    // Six removals planned (main-0..main-5); reads 3 to 6 start four of them: main-4, main-5 wait.
    await worker()(received(body, 'first'), fallingDeadline(DEADLINE_MARGIN_MS * 6.5));
    expect((await listTagsRaw(registry.url, REPOSITORY)).sort()).toEqual(['main-4', 'main-5', 'main-6']);
    const continuation = fake.messages[0]?.body ?? '{}';
    expect(JSON.parse(continuation)).toHaveProperty('plan');
    const main4 = (await headDigestRaw(registry.url, REPOSITORY, 'main-4')) as Digest;
    await retag(registry.url, REPOSITORY, 'main-6', main4);
    const repushed = await pushImage(registry.url, REPOSITORY, 'main-5', {
      created: daysAgo(2),
      seed: 'again',
    });

    // Act
    const second = await worker()(received(continuation, 'continuation'), plenty);

    // Assess: nothing failed, and nothing the registry holds now for a kept or new tag went.
    expect(second.batchItemFailures).toEqual([]);
    expect((await listTagsRaw(registry.url, REPOSITORY)).sort()).toEqual(['main-4', 'main-5', 'main-6']);
    expect(await headDigestRaw(registry.url, REPOSITORY, 'main-6')).toBe(main4);
    expect(await headDigestRaw(registry.url, REPOSITORY, 'main-4')).toBe(main4);
    expect(await headDigestRaw(registry.url, REPOSITORY, 'main-5')).toBe(repushed.digest);
  });

  it.each([
    [
      'the ledger has no such plan',
      (body: string) => ({
        body: JSON.stringify({ ...JSON.parse(body), plan: '01JUNKNOWNPLAN0000000000000' }),
      }),
    ],
    ['the message is received again', (body: string) => ({ body, receiveCount: 2 })],
    [
      'the policy changed',
      (body: string) => ({ body, policy: { rules: [{ ...POLICY.rules[0], tags: 'main-[0-9]+' }] } }),
    ],
  ] as const)('plans afresh when %s', async (_case, vary) => {
    // Prepare: the first invocation stops; a newer build is pushed; the continuation is varied.
    const continuation = await stoppedAfterFour();
    await pushImage(registry.url, REPOSITORY, 'main-7', { created: daysAgo(1) });
    const { body, receiveCount, policy } = vary(continuation) as {
      body: string;
      receiveCount?: number;
      policy?: unknown;
    };

    // Act
    const second = await worker(policy ?? POLICY)(received(body, 'continuation', receiveCount), plenty);

    // Assess: a plan made now keeps only main-7, the newest.
    expect(second.batchItemFailures).toEqual([]);
    expect(await listTagsRaw(registry.url, REPOSITORY)).toEqual(['main-7']);
  });
});
