import { createHash } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import {
  CleanupMessageError,
  continuationOf,
  MAX_CONTINUATIONS,
  MAX_EVENT_IDS_PER_MESSAGE,
  MAX_PUSHED_PER_MESSAGE,
  MAX_QUEUE_BATCH_BYTES,
  parseCleanupMessage,
  toCleanupMessages,
  toQueueBatches,
  type CleanupMessage,
  type QueueEntry,
} from '../../../lambda/events';
import { loadEventFixture } from '../../fixtures/events';

const ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;

function push(repository: string, eventIds: string[]): CleanupMessage {
  return { repository, trigger: 'push', eventIds };
}

function bodyBytes(batch: QueueEntry[]): number {
  return batch.reduce((total, entry) => total + Buffer.byteLength(entry.MessageBody), 0);
}

describe('Function: parseCleanupMessage', () => {
  it('reads both records of the SQS fixture', () => {
    // Prepare
    const event = loadEventFixture<SQSEvent>('sqs-cleanup-messages');

    // Act
    const messages = event.Records.map((record) => parseCleanupMessage(record.body));

    // Assess
    expect(messages).toEqual([
      {
        repository: 'apps/web',
        trigger: 'push',
        eventIds: ['57faf402-3897-401c-8c8a-e1cf9ee1fd54', 'f92d273c-30be-4c39-88f4-fec9285314f8'],
      },
      { repository: 'apps/api', trigger: 'schedule', eventIds: [] },
    ]);
  });

  it('defaults missing eventIds to none', () => {
    // Act & Assess
    expect(parseCleanupMessage('{"repository":"team/app","trigger":"schedule"}')).toEqual({
      repository: 'team/app',
      trigger: 'schedule',
      eventIds: [],
    });
  });

  it.each([
    ['not JSON', 'team/app', 'not valid JSON'],
    [
      'an invalid repository name',
      '{"repository":"team/../app","trigger":"push","eventIds":[]}',
      'repository: repository name component',
    ],
    [
      'an upper-case repository name',
      '{"repository":"Team/app","trigger":"push","eventIds":[]}',
      'repository:',
    ],
    ['a missing repository', '{"trigger":"push","eventIds":[]}', 'repository:'],
    ['an unknown trigger', '{"repository":"team/app","trigger":"manual","eventIds":[]}', 'trigger:'],
    [
      'eventIds that are not strings',
      '{"repository":"team/app","trigger":"push","eventIds":[1]}',
      'eventIds.0:',
    ],
    ['a body that is not an object', '["team/app"]', 'message:'],
  ])('rejects %s, naming the field', (_case, body, message) => {
    // Act
    const parse = () => parseCleanupMessage(body);

    // Assess
    expect(parse).toThrow(CleanupMessageError);
    expect(parse).toThrow(message);
  });
});

describe('Function: toCleanupMessages', () => {
  it('makes one push message per accepted repository', () => {
    // Act
    const pushed = [{ tag: 'v1', digest: `sha256:${'a'.repeat(64)}` as const }];
    const messages = toCleanupMessages([
      { repository: 'apps/web', eventIds: ['a', 'b'], tags: ['v1'], pushed },
    ]);

    // Assess
    expect(messages).toEqual([{ repository: 'apps/web', trigger: 'push', eventIds: ['a', 'b'], pushed }]);
  });

  it(`carries at most ${MAX_PUSHED_PER_MESSAGE} pushed tags, and says when there were more`, () => {
    // Prepare
    const pushed = Array.from({ length: MAX_PUSHED_PER_MESSAGE + 1 }, (_, n) => ({
      tag: `t-${n}`,
      digest: `sha256:${n.toString(16).padStart(64, '0')}` as const,
    }));

    // Act
    const [message] = toCleanupMessages([{ repository: 'apps/web', eventIds: ['a'], tags: [], pushed }]);

    // Assess: the body stays small, and parses back.
    expect(message?.pushed).toEqual(pushed.slice(0, MAX_PUSHED_PER_MESSAGE));
    expect(message?.pushedTruncated).toBe(true);
    const [entry] = toQueueBatches([message!])[0]!;
    expect(Buffer.byteLength(entry!.MessageBody)).toBeLessThan(64 * 1024);
    expect(parseCleanupMessage(entry!.MessageBody)).toEqual(message);
  });
});

describe('Function: continuationOf', () => {
  it('keeps repository, trigger, run, event ids and pushes, and counts up to a bounded number', () => {
    // Prepare
    const first: CleanupMessage = {
      repository: 'apps/web',
      trigger: 'schedule',
      eventIds: [],
      runId: 'run-1',
      pushed: [{ tag: 'prod', digest: `sha256:${'c'.repeat(64)}` }],
    };

    // Act
    const second = continuationOf(first);
    let last = second;
    for (let n = 2; n <= MAX_CONTINUATIONS; n += 1) last = continuationOf(last);

    // Assess
    expect(second).toEqual({ ...first, continuation: 1 });
    expect(last.continuation).toBe(MAX_CONTINUATIONS);
    expect(() => continuationOf(last)).toThrow(CleanupMessageError);
  });

  it("carries the removals reserved from the run's budget and not done, and only the latest count", () => {
    // Prepare
    const first: CleanupMessage = {
      repository: 'apps/web',
      trigger: 'schedule',
      eventIds: [],
      runId: 'run-1',
    };

    // Act
    const second = continuationOf(first, 40);
    const third = continuationOf(second, 15);
    const fourth = continuationOf(third, 0);

    // Assess: the count survives the queue (it parses back) and is replaced, never added up.
    expect(parseCleanupMessage(JSON.stringify(second))).toEqual({ ...first, continuation: 1, reserved: 40 });
    expect(third.reserved).toBe(15);
    expect(fourth).toEqual({ ...first, continuation: 3 });
    expect(() => parseCleanupMessage(JSON.stringify({ ...first, reserved: -1 }))).toThrow(/reserved/);
  });

  it('carries the id of the pending plan it was given, and only that one', () => {
    // Prepare
    const first: CleanupMessage = {
      repository: 'apps/web',
      trigger: 'schedule',
      eventIds: [],
      runId: 'run-1',
    };

    // Act
    const second = continuationOf(first, undefined, '01JPLANA0000000000000000000');
    const third = continuationOf(second);

    // Assess: the id survives the queue; a continuation queued without one plans afresh.
    expect(parseCleanupMessage(JSON.stringify(second))).toEqual({
      ...first,
      continuation: 1,
      plan: '01JPLANA0000000000000000000',
    });
    expect(third).toEqual({ ...first, continuation: 2 });
    expect(() => parseCleanupMessage(JSON.stringify({ ...first, plan: '' }))).toThrow(
      /invalid queue message: plan: expected a non-empty id/,
    );
  });

  it('gives each continuation its own deduplication id, in the same message group', () => {
    // Prepare
    const first = push('apps/web', ['e1']);

    // Act
    const entries = [first, continuationOf(first), continuationOf(continuationOf(first))].map(
      (message) => toQueueBatches([message])[0]![0]!,
    );

    // Assess
    expect(new Set(entries.map((entry) => entry.MessageDeduplicationId)).size).toBe(3);
    expect(new Set(entries.map((entry) => entry.MessageGroupId))).toEqual(new Set(['apps/web']));
  });
});

describe('Function: parseCleanupMessage (pushed and continuations)', () => {
  it('reads pushed, runId and continuation', () => {
    // Prepare
    const body = {
      repository: 'apps/web',
      trigger: 'push',
      eventIds: ['e1'],
      pushed: [{ tag: 'prod', digest: `sha256:${'d'.repeat(64)}` }],
      runId: 'run-1',
      continuation: 3,
    };

    // Act & Assess
    expect(parseCleanupMessage(JSON.stringify(body))).toEqual(body);
  });

  it.each([
    [
      'a pushed digest that is not one',
      { pushed: [{ tag: 'prod', digest: 'sha256:nothex' }] },
      'pushed.0.digest:',
    ],
    [
      'a pushed tag that is not one',
      { pushed: [{ tag: '-bad', digest: `sha256:${'d'.repeat(64)}` }] },
      'pushed.0.tag:',
    ],
    [
      'too many pushed tags',
      {
        pushed: Array.from({ length: MAX_PUSHED_PER_MESSAGE + 1 }, () => ({
          tag: 'a',
          digest: `sha256:${'d'.repeat(64)}`,
        })),
      },
      'pushed:',
    ],
    ['a continuation past the bound', { continuation: MAX_CONTINUATIONS + 1 }, 'continuation:'],
    ['a negative continuation', { continuation: -1 }, 'continuation:'],
  ])('rejects %s, naming the field', (_case, extra, message) => {
    // Act
    const parse = () =>
      parseCleanupMessage(JSON.stringify({ repository: 'team/app', trigger: 'push', ...extra }));

    // Assess
    expect(parse).toThrow(CleanupMessageError);
    expect(parse).toThrow(message);
  });
});

describe('Function: toQueueBatches', () => {
  it('produces exactly the SQS fixture: bodies (by MD5), groups and deduplication ids', () => {
    // Prepare
    const event = loadEventFixture<SQSEvent>('sqs-cleanup-messages');
    const [pushRecord, scheduleRecord] = event.Records;

    // Act
    const [pushEntry] = toQueueBatches([parseCleanupMessage(pushRecord!.body)])[0]!;
    const [scheduleEntry] = toQueueBatches([parseCleanupMessage(scheduleRecord!.body)], {
      runId: '2026-11-28T03:00:00Z',
    })[0]!;

    // Assess
    for (const [entry, record] of [
      [pushEntry!, pushRecord!],
      [scheduleEntry!, scheduleRecord!],
    ] as const) {
      expect(createHash('md5').update(entry.MessageBody).digest('hex')).toBe(record.md5OfBody);
      expect(entry.MessageGroupId).toBe(record.attributes.MessageGroupId);
      expect(entry.MessageDeduplicationId).toBe(record.attributes.MessageDeduplicationId);
    }
  });

  it('puts at most 10 entries in a batch, with ids unique in the batch and in the SQS alphabet', () => {
    // Prepare
    const messages = Array.from({ length: 25 }, (_, index) => push(`team/app.${index}`, [`e${index}`]));

    // Act
    const batches = toQueueBatches(messages);

    // Assess
    expect(batches.map((batch) => batch.length)).toEqual([10, 10, 5]);
    for (const batch of batches) {
      const ids = batch.map((entry) => entry.Id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(id).toMatch(ENTRY_ID);
    }
    expect(batches.flat().map((entry) => entry.MessageGroupId)).toEqual(
      messages.map((message) => message.repository),
    );
  });

  it('keeps each batch under 256 KiB of message bodies', () => {
    // Prepare: each message carries 500 ids of 120 characters, about 62 KB.
    const messages = Array.from({ length: 9 }, (_, index) =>
      push(
        `team/app${index}`,
        Array.from({ length: MAX_EVENT_IDS_PER_MESSAGE }, (_, id) => `${index}-${id}-`.padEnd(120, 'x')),
      ),
    );

    // Act
    const batches = toQueueBatches(messages);

    // Assess
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) expect(bodyBytes(batch)).toBeLessThanOrEqual(MAX_QUEUE_BATCH_BYTES);
    expect(batches.flat()).toHaveLength(9);
  });

  it('gives the same deduplication id to the same events in any order, and a new one otherwise', () => {
    // Act
    const [first, reordered, other, otherRepository] = toQueueBatches([
      push('apps/web', ['b', 'a']),
      push('apps/web', ['a', 'b', 'a']),
      push('apps/web', ['a', 'c']),
      push('apps/api', ['a', 'b']),
    ])[0]!.map((entry) => entry.MessageDeduplicationId);

    // Assess
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(reordered).toBe(first);
    expect(other).not.toBe(first);
    expect(otherRepository).not.toBe(first);
  });

  it('deduplicates schedule messages by repository and run id', () => {
    // Prepare
    const message: CleanupMessage = { repository: 'apps/web', trigger: 'schedule', eventIds: [] };

    // Act
    const run1 = toQueueBatches([message], { runId: '2026-11-28' })[0]![0]!.MessageDeduplicationId;
    const run1Again = toQueueBatches([message], { runId: '2026-11-28' })[0]![0]!.MessageDeduplicationId;
    const run2 = toQueueBatches([message], { runId: '2026-11-29' })[0]![0]!.MessageDeduplicationId;

    // Assess
    expect(run1Again).toBe(run1);
    expect(run2).not.toBe(run1);
  });

  it('refuses a schedule message without a run id', () => {
    // Act
    const build = () => toQueueBatches([{ repository: 'apps/web', trigger: 'schedule', eventIds: [] }]);

    // Assess
    expect(build).toThrow(CleanupMessageError);
    expect(build).toThrow('runId');
  });

  it('splits a repository with many event ids into messages of sorted ids, the same way every time', () => {
    // Prepare
    const eventIds = Array.from({ length: 1_200 }, (_, index) => `event-${String(index).padStart(4, '0')}`);

    // Act
    const entries = toQueueBatches([push('apps/web', [...eventIds].reverse())]).flat();
    const again = toQueueBatches([push('apps/web', eventIds)]).flat();

    // Assess
    const carried = entries.map((entry) => parseCleanupMessage(entry.MessageBody).eventIds);
    expect(carried.map((ids) => ids.length)).toEqual([500, 500, 200]);
    expect(carried.flat()).toEqual(eventIds);
    expect(new Set(entries.map((entry) => entry.MessageGroupId))).toEqual(new Set(['apps/web']));
    expect(again.map((entry) => entry.MessageDeduplicationId)).toEqual(
      entries.map((entry) => entry.MessageDeduplicationId),
    );
  });

  it('shortens group ids of repositories longer than SQS allows, keeping them distinct', () => {
    // Prepare
    const prefix = `${'a'.repeat(120)}/`;
    const long1 = `${prefix}${'b'.repeat(134)}`;
    const long2 = `${prefix}${'c'.repeat(134)}`;

    // Act
    const [first, second] = toQueueBatches([push(long1, ['x']), push(long2, ['x'])])[0]!;

    // Assess
    expect(long1).toHaveLength(255);
    expect(first!.MessageGroupId.length).toBeLessThanOrEqual(128);
    expect(first!.MessageGroupId).not.toBe(second!.MessageGroupId);
    expect(first!.Id).toMatch(ENTRY_ID);
  });

  it('refuses a message with an invalid repository name', () => {
    // Act
    const build = () => toQueueBatches([push('apps/../etc', ['x'])]);

    // Assess
    expect(build).toThrow(CleanupMessageError);
  });

  it('returns no batches for no messages', () => {
    // Act & Assess
    expect(toQueueBatches([])).toEqual([]);
  });
});
