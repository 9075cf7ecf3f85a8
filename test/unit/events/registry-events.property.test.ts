import fc from 'fast-check';
import { isDigest, isImage, isIndex, isRepositoryName, isSchema1, isTag } from '../../../lambda/domain';
import { CLOUDEVENTS_JSON, registryEventsOf, WebhookPayloadError } from '../../../lambda/events';
import { HOSTILE_REPOSITORIES, registryEnvelope, registryEvent } from './arbitraries';

const NOW = new Date('2026-12-02T06:00:00Z');

const contentType = fc.option(
  fc.oneof(
    fc.constantFrom(
      'application/vnd.docker.distribution.events.v1+json',
      'application/vnd.docker.distribution.events.v2+json',
      'application/json; charset=utf-8',
      CLOUDEVENTS_JSON,
    ),
    fc.string({ unit: 'binary', maxLength: 40 }),
  ),
  { nil: undefined },
);

describe('Function: registryEventsOf (properties)', () => {
  it('throws nothing but a WebhookPayloadError, whatever the body', () => {
    // Prepare
    const body = fc.oneof(
      registryEnvelope.map((value) => JSON.stringify(value)),
      fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value) ?? ''),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.constantFrom(
        '',
        '{}',
        '[]',
        'null',
        '{"events":null}',
        '{"specversion":1}',
        '{"type":"PULL_ARTIFACT"}',
      ),
    );

    // Act & Assess
    fc.assert(
      fc.property(body, contentType, (text, type) => {
        try {
          registryEventsOf(text, { contentType: type, now: NOW });
        } catch (error) {
          expect(error).toBeInstanceOf(WebhookPayloadError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never yields an invalid repository, tag or digest, and each event is one the ledger can key', () => {
    fc.assert(
      fc.property(registryEnvelope, (value) => {
        // Act
        const result = registryEventsOf(JSON.stringify(value), { now: NOW });

        // Assess
        for (const event of result.events) {
          expect(isRepositoryName(event.repository)).toBe(true);
          expect(HOSTILE_REPOSITORIES).not.toContain(event.repository);
          if (event.tag !== undefined) expect(isTag(event.tag)).toBe(true);
          if (event.digest !== undefined) expect(isDigest(event.digest)).toBe(true);
          expect(['push', 'pull', 'delete']).toContain(event.action);
          if (event.action !== 'delete') expect(event.digest).toBeDefined();
          else expect(event.digest ?? event.tag).toBeDefined();
          if (event.mediaType !== undefined) {
            const manifest =
              isIndex(event.mediaType) || isImage(event.mediaType) || isSchema1(event.mediaType);
            expect(manifest).toBe(true);
          }
          if (event.size !== undefined) expect(Number.isSafeInteger(event.size) && event.size > 0).toBe(true);
          expect(event.id).toMatch(/^[\x21-\x7e]{1,128}$/);
          expect(event.timestamp).toBeInstanceOf(Date);
          expect(event.timestamp.getTime()).toBeGreaterThan(0);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('counts every distribution event once: returned, ignored or invalid', () => {
    // Prepare
    const events = fc.array(fc.oneof(registryEvent, fc.jsonValue({ maxDepth: 2 })), { maxLength: 12 });

    // Act & Assess
    fc.assert(
      fc.property(events, (offered) => {
        const result = registryEventsOf(JSON.stringify({ events: offered }), { now: NOW });
        expect(result.events.length + result.ignored + result.invalid).toBe(offered.length);
      }),
      { numRuns: 300 },
    );
  });
});
