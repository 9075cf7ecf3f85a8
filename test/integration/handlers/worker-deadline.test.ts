import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DEADLINE_MARGIN_MS } from '../../../lambda/aws/deadline';
import { loadEventFixture } from '../../fixtures/events';
import { startAwsFake, type AwsFake } from '../../helpers/aws-fake';
import { coldStart, lambdaEnv, TEST_SECRET_ARN, workerFor } from '../../helpers/lambda';
import { listTagsRaw, pushImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

type Handler = (
  event: SQSEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
) => Promise<SQSBatchResponse>;

const DAY_MS = 86_400_000;
const daysAgo = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString();
const REPOSITORY = 'apps/big';
const POLICY = { rules: [{ name: 'builds', tags: 'main-\\d+', keep: 1 }] };
const BUILDS = 6;

/** One queued message, as the worker receives it. */
function received(body: string, messageId: string): SQSEvent {
  const template = loadEventFixture<SQSEvent>('sqs-cleanup-messages').Records[0] as SQSRecord;
  return {
    Records: [
      { ...template, messageId, body, attributes: { ...template.attributes, MessageGroupId: REPOSITORY } },
    ],
  };
}

/**
 * A Lambda context whose remaining time falls by `stepMs` each time it is read, never with the
 * clock: the worker reads it once when the invocation starts, once per message, and once before
 * each removal it starts, so how many removals start does not depend on how fast the machine is.
 */
function fallingDeadline(
  startMs: number,
  stepMs: number,
): Pick<Context, 'getRemainingTimeInMillis'> & { reads: number } {
  const context = {
    reads: 0,
    getRemainingTimeInMillis: () => {
      const remaining = startMs - context.reads * stepMs;
      context.reads += 1;
      return remaining;
    },
  };
  return context;
}

/** Collects (and keeps off the console) the JSON log lines written to stdout until `stop()`. */
function captureLogs(): { stop(): Array<Record<string, unknown>> } {
  const original = process.stdout.write.bind(process.stdout);
  const lines: Array<Record<string, unknown>> = [];
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    for (const line of text.split('\n'))
      if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
    // Kept out of the test output; a line that is not JSON still goes through.
    return text.trimStart().startsWith('{') ? true : original(chunk, ...(rest as []));
  }) as typeof process.stdout.write;
  return {
    stop: () => {
      process.stdout.write = original;
      return lines;
    },
  };
}

describe('Handler: worker (the Lambda deadline)', () => {
  let registry: RegistryProcess;
  let fake: AwsFake;

  beforeEach(async () => {
    registry = await startRegistry();
    fake = await startAwsFake({
      secrets: { [TEST_SECRET_ARN]: JSON.stringify({ webhookToken: 'w'.repeat(32) }) },
    });
    for (let n = 1; n <= BUILDS; n += 1)
      await pushImage(registry.url, REPOSITORY, `main-${n}`, { created: daysAgo(20 - n) });
  });

  afterEach(async () => {
    await registry.stop();
    await fake.stop();
  });

  it('stops starting removals before the deadline, queues a continuation of the same run, which finishes the job', async () => {
    // Prepare: 5 of the 6 builds are superseded. Reads 1 and 2 (invocation, message) leave time;
    // reads 3 to 6 start removals (main-1..main-4); read 7 is under the margin: main-5 waits.
    const step = DEADLINE_MARGIN_MS;
    const context = fallingDeadline(DEADLINE_MARGIN_MS * 6 + step / 2, step);
    const body = JSON.stringify({
      repository: REPOSITORY,
      trigger: 'schedule',
      eventIds: [],
      runId: 'run-42',
    });
    const { handler, restore } = coldStart<Handler>(
      'worker',
      lambdaEnv(fake, registry.url, POLICY, { POWERTOOLS_LOG_LEVEL: 'INFO' }),
    );
    const logs = captureLogs();
    try {
      // Act
      const first = await handler(received(body, 'first'), context);
      const firstLogs = logs.stop();
      const tagsAfterFirst = (await listTagsRaw(registry.url, REPOSITORY)).sort();
      const queued = [...fake.messages];
      const second = await handler(received(queued[0]?.body ?? '{}', 'continuation'), {
        getRemainingTimeInMillis: () => 15 * 60_000,
      });

      // Assess: the first invocation removed what it started and left the rest, not failed...
      expect(first.batchItemFailures).toEqual([]);
      expect(tagsAfterFirst).toEqual(['main-5', 'main-6']);
      // ...and queued one continuation: same repository, trigger and run, in the repository's group.
      expect(queued).toHaveLength(1);
      expect(JSON.parse(queued[0]!.body)).toEqual({
        repository: REPOSITORY,
        trigger: 'schedule',
        eventIds: [],
        runId: 'run-42',
        continuation: 1,
      });
      expect(queued[0]?.groupId).toBe(REPOSITORY);
      // The log says what was not started, and why.
      expect(firstLogs.find((line) => line.message === 'repository cleaned')).toMatchObject({
        repository: REPOSITORY,
        runId: 'run-42',
        deleted: 4,
        notStarted: [`${REPOSITORY}:main-5`],
        notStartedCount: 1,
        notStartedReason: expect.stringMatching(
          /ms left before the Lambda deadline, under the 40000 ms margin$/,
        ),
      });
      expect(firstLogs.find((line) => line.message === 'continuation queued')).toMatchObject({
        continuation: 1,
      });
      // The continuation finished the job, and queued nothing more.
      expect(second.batchItemFailures).toEqual([]);
      expect(await listTagsRaw(registry.url, REPOSITORY)).toEqual(['main-6']);
      expect(fake.messages).toHaveLength(1);
    } finally {
      logs.stop();
      restore();
    }
  });

  it('hands a message on whole when too little time is left to start it', async () => {
    // Prepare: the invocation starts with less than the margin (a quarter of the time it had).
    const context = fallingDeadline(1_000, 900);
    const body = JSON.stringify({ repository: REPOSITORY, trigger: 'push', eventIds: ['e1'] });
    const { handler, restore } = workerFor(fake, registry.url, POLICY);
    try {
      // Act
      const response = await handler(received(body, 'late'), context);

      // Assess: nothing removed; the whole cleanup is queued as continuation 1.
      expect(response.batchItemFailures).toEqual([]);
      expect((await listTagsRaw(registry.url, REPOSITORY)).length).toBe(BUILDS);
      expect(fake.messages.map((message) => JSON.parse(message.body))).toEqual([
        { repository: REPOSITORY, trigger: 'push', eventIds: ['e1'], continuation: 1 },
      ]);
    } finally {
      await restore();
    }
  });
});
