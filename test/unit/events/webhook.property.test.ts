import fc from 'fast-check';
import { isRepositoryName, isTag } from '../../../lambda/domain';
import { acceptWebhook, parseNotification, type WebhookRequest } from '../../../lambda/events';
import { HOSTILE_REPOSITORIES, mediaType, repository, tag } from './arbitraries';

const TOKEN = 'property-token';
/** The arrival time both decisions are given: an event without a valid timestamp gets it. */
const NOW = new Date('2026-11-28T00:00:00.000Z');
const STATUSES = [202, 400, 401, 405, 413];

const distributionEvent = fc.record(
  {
    id: fc.oneof(fc.uuid(), fc.string({ unit: 'binary', maxLength: 200 }), fc.integer()),
    action: fc.oneof(
      { arbitrary: fc.constant('push'), weight: 4 },
      fc.constantFrom('pull', 'delete', 'mount', 'PUSH'),
    ),
    target: fc.record(
      { mediaType, repository, tag, digest: fc.string({ maxLength: 10 }) },
      { requiredKeys: ['mediaType', 'repository'] },
    ),
    request: fc.record({ useragent: fc.constantFrom('docker/24.0.7', 'regsweep/0.1.0', 'buildkit/v0.12') }),
  },
  { requiredKeys: ['action', 'target'] },
);
const harborResources = fc.array(
  fc.record({ digest: fc.string({ maxLength: 10 }), tag }, { requiredKeys: [] }),
  {
    maxLength: 5,
  },
);
const envelope = fc.oneof(
  fc.record({
    events: fc.array(fc.oneof(distributionEvent, fc.jsonValue({ maxDepth: 2 })), { maxLength: 8 }),
  }),
  fc.record({
    type: fc.constantFrom('PUSH_ARTIFACT', 'DELETE_ARTIFACT'),
    occur_at: fc.integer(),
    event_data: fc.record({
      resources: harborResources,
      repository: fc.record({ repo_full_name: repository }),
    }),
  }),
  fc.record({
    specversion: fc.constant('1.0'),
    id: fc.string({ maxLength: 40 }),
    type: fc.constantFrom('harbor.artifact.pushed', 'harbor.artifact.deleted'),
    data: fc.record({ resources: harborResources, repository: fc.record({ repo_full_name: repository }) }),
  }),
);

/** Every repository name that some event in the envelope offered, in whatever format. */
function offeredRepositories(value: unknown): unknown[] {
  const record = value as {
    events?: { target?: { repository?: unknown } }[];
    event_data?: unknown;
    data?: unknown;
  };
  if (Array.isArray(record.events)) return record.events.map((event) => event?.target?.repository);
  const data = (record.event_data ?? record.data) as { repository: { repo_full_name: unknown } };
  return [data.repository.repo_full_name];
}

describe('Function: acceptWebhook (properties)', () => {
  it('never throws and answers only 202, 400, 401, 405 or 413, whatever arrives', () => {
    // Prepare
    const body = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      envelope.map((value) => JSON.stringify(value)),
      envelope.map((value) => Buffer.from(JSON.stringify(value)).toString('base64')),
      fc.constantFrom(null, undefined, '', '[]', 'null', '{}', '{"events":null}', '{"specversion":1}'),
    );
    // Mostly well-authenticated POSTs, so that most runs reach the decoder and the parser.
    const headers = fc
      .tuple(
        fc.constantFrom('authorization', 'Authorization', 'AUTHORIZATION'),
        fc.oneof(
          { arbitrary: fc.constant(`Bearer ${TOKEN}`), weight: 8 },
          fc.string({ unit: 'binary', maxLength: 60 }),
          fc.constant(undefined),
        ),
        fc.dictionary(
          fc.constantFrom('content-type', 'Content-Type', 'x-other'),
          fc.string({ unit: 'binary', maxLength: 60 }),
        ),
      )
      .map(([name, value, others]) => ({ ...others, [name]: value }));
    const request = fc.record(
      {
        method: fc.oneof(
          { arbitrary: fc.constantFrom('POST', 'post'), weight: 8 },
          fc.constantFrom('GET', 'DELETE', ''),
          fc.string({ maxLength: 8 }),
        ),
        headers,
        body,
        isBase64Encoded: fc.boolean(),
      },
      { requiredKeys: ['headers'] },
    );
    const maxBodyBytes = fc.option(fc.oneof(fc.integer({ min: -10, max: 2_000 }), fc.constant(Number.NaN)), {
      nil: undefined,
    });

    // Act & Assess
    fc.assert(
      fc.property(request, maxBodyBytes, (input, limit) => {
        const decision = acceptWebhook(input as WebhookRequest, { webhookToken: TOKEN, maxBodyBytes: limit });
        expect(STATUSES).toContain(decision.statusCode);
        expect(typeof decision.message).toBe('string');
        if (decision.statusCode !== 202) expect(decision.repositories).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('never lets a hostile repository name or an invalid tag out, in any format', () => {
    fc.assert(
      fc.property(envelope, (value) => {
        // Act
        const parsed = parseNotification(JSON.stringify(value));

        // Assess
        const offered = offeredRepositories(value);
        for (const entry of parsed.repositories) {
          expect(isRepositoryName(entry.repository)).toBe(true);
          expect(HOSTILE_REPOSITORIES).not.toContain(entry.repository);
          expect(offered).toContain(entry.repository);
          expect(entry.eventIds.length).toBeGreaterThan(0);
          for (const pushed of entry.tags) expect(isTag(pushed)).toBe(true);
          for (const id of entry.eventIds) expect(id).toMatch(/^[\x21-\x7e]{1,128}$/);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('decides the same for a body sent as text or as base64', () => {
    fc.assert(
      fc.property(envelope, (value) => {
        // Prepare
        const text = JSON.stringify(value);
        const headers = { authorization: `Bearer ${TOKEN}` };

        // Act
        const plain = acceptWebhook(
          { method: 'POST', headers, body: text },
          { webhookToken: TOKEN, now: NOW },
        );
        const encoded = acceptWebhook(
          { method: 'POST', headers, body: Buffer.from(text).toString('base64'), isBase64Encoded: true },
          { webhookToken: TOKEN, now: NOW },
        );

        // Assess
        expect(encoded).toEqual(plain);
      }),
      { numRuns: 200 },
    );
  });
});
