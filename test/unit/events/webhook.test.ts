import type { LambdaFunctionURLEvent } from 'aws-lambda';
import {
  acceptWebhook,
  DISTRIBUTION_EVENTS_V1,
  MAX_WEBHOOK_BODY_BYTES,
  type WebhookRequest,
} from '../../../lambda/events';
import {
  FIXTURE_WEBHOOK_TOKEN,
  loadEventFixture,
  readEventFixture,
  type EventFixtureName,
} from '../../fixtures/events';

const options = { webhookToken: FIXTURE_WEBHOOK_TOKEN };

/** What the Lambda adapter hands to acceptWebhook. */
function fromFunctionUrl(name: EventFixtureName): WebhookRequest {
  const event = loadEventFixture<LambdaFunctionURLEvent>(name);
  return {
    method: event.requestContext.http.method,
    headers: event.headers,
    body: event.body,
    isBase64Encoded: event.isBase64Encoded,
  };
}

/** What the `serve` adapter hands to acceptWebhook: Node lower-cases header names. */
function post(
  body: string | null | undefined,
  headers: Record<string, string | undefined> = {},
): WebhookRequest {
  return {
    method: 'POST',
    headers: {
      authorization: `Bearer ${FIXTURE_WEBHOOK_TOKEN}`,
      'content-type': DISTRIBUTION_EVENTS_V1,
      ...headers,
    },
    body,
  };
}

describe('Function: acceptWebhook', () => {
  describe('Lambda Function URL events', () => {
    it('decodes a base64 distribution envelope and answers 202 with the pushed repositories', () => {
      // Act
      const decision = acceptWebhook(fromFunctionUrl('function-url-distribution-base64'), options);

      // Assess
      expect(decision.statusCode).toBe(202);
      expect(decision.message).toBe('accepted 2 repositories, ignored 10 events');
      expect(decision.repositories.map(({ repository, tags }) => ({ repository, tags }))).toEqual([
        { repository: 'apps/web', tags: ['main-1a2b3c4', 'v1.2.3'] },
        { repository: 'apps/api', tags: ['pr-42-0f1e2d3'] },
      ]);
    });

    it.each([
      ['function-url-distribution-v2-base64', 'apps/worker'],
      ['function-url-harbor-json', 'apps/web'],
      ['function-url-harbor-cloudevents-base64', 'apps/web'],
    ] as const)('accepts %s', (fixture, repository) => {
      // Act
      const decision = acceptWebhook(fromFunctionUrl(fixture), options);

      // Assess
      expect(decision).toMatchObject({
        statusCode: 202,
        message: 'accepted 1 repository, ignored 0 events',
        ignored: 0,
      });
      expect(decision.repositories.map((entry) => entry.repository)).toEqual([repository]);
    });

    it('answers 401 to a wrong token', () => {
      // Act
      const decision = acceptWebhook(fromFunctionUrl('function-url-bad-token'), options);

      // Assess
      expect(decision).toEqual({
        statusCode: 401,
        message: 'missing or invalid bearer token',
        repositories: [],
        ignored: 0,
        events: [],
      });
    });

    it('answers 405 to a GET', () => {
      // Act
      const decision = acceptWebhook(fromFunctionUrl('function-url-get'), options);

      // Assess
      expect(decision.statusCode).toBe(405);
    });
  });

  describe('gate order', () => {
    it('checks the token before looking at the body', () => {
      // Act: an oversized, malformed body with no token is a 401, not a 413 or 400.
      const decision = acceptWebhook(
        { method: 'POST', headers: {}, body: '%'.repeat(MAX_WEBHOOK_BODY_BYTES * 2), isBase64Encoded: true },
        options,
      );

      // Assess
      expect(decision.statusCode).toBe(401);
    });

    it('checks the method before the token', () => {
      // Act
      const decision = acceptWebhook({ method: 'PUT', headers: {}, body: '{}' }, options);

      // Assess
      expect(decision.statusCode).toBe(405);
    });

    it('finds headers whatever their case, and takes a missing method as POST', () => {
      // Act
      const decision = acceptWebhook(
        {
          headers: { Authorization: `Bearer ${FIXTURE_WEBHOOK_TOKEN}`, 'Content-Type': 'application/json' },
          body: readEventFixture('distribution-push-manifest'),
        },
        options,
      );

      // Assess
      expect(decision.statusCode).toBe(202);
    });

    it('refuses everything when the configured token is empty', () => {
      // Act
      const decision = acceptWebhook(post('{"events":[]}', { authorization: 'Bearer ' }), {
        webhookToken: '',
      });

      // Assess
      expect(decision.statusCode).toBe(401);
    });
  });

  describe('body size', () => {
    it('answers 413 when the text body is over the limit, counting UTF-8 bytes', () => {
      // Prepare: 600 three-byte characters are 1,800 bytes in 600 UTF-16 units.
      const body = `{"events":[],"pad":"${'€'.repeat(600)}"}`;

      // Act
      const small = acceptWebhook(post(body), { ...options, maxBodyBytes: 1_000 });
      const large = acceptWebhook(post(body), { ...options, maxBodyBytes: 2_000 });

      // Assess
      expect(small).toMatchObject({ statusCode: 413, message: 'body is larger than 1000 bytes' });
      expect(large.statusCode).toBe(202);
    });

    it('answers 413 on the decoded size of a base64 body', () => {
      // Prepare
      const text = `{"events":[],"pad":"${'x'.repeat(1_000)}"}`;
      const encoded = Buffer.from(text).toString('base64');

      // Act
      const exact = acceptWebhook(
        { ...post(encoded), isBase64Encoded: true },
        { ...options, maxBodyBytes: text.length },
      );
      const over = acceptWebhook(
        { ...post(encoded), isBase64Encoded: true },
        { ...options, maxBodyBytes: text.length - 1 },
      );

      // Assess
      expect(exact.statusCode).toBe(202);
      expect(over.statusCode).toBe(413);
    });

    it('refuses an oversized raw base64 body without decoding it', () => {
      // Prepare: far over the limit, and invalid base64 too: the size answer comes first.
      const raw = '!'.repeat(MAX_WEBHOOK_BODY_BYTES * 2);

      // Act
      const decision = acceptWebhook({ ...post(raw), isBase64Encoded: true }, options);

      // Assess
      expect(decision.statusCode).toBe(413);
    });

    it(`defaults to ${MAX_WEBHOOK_BODY_BYTES} bytes`, () => {
      // Prepare
      const body = `{"events":[],"pad":"${'x'.repeat(MAX_WEBHOOK_BODY_BYTES)}"}`;

      // Act
      const decision = acceptWebhook(post(body), options);

      // Assess
      expect(decision.statusCode).toBe(413);
    });
  });

  describe('bad bodies', () => {
    it.each([
      ['no body', null, false, 'body is empty'],
      ['a blank body', '  \n', false, 'body is empty'],
      ['malformed JSON', '{"events":', false, 'notification body is not valid JSON'],
      ['an unknown shape', '{"kind":"push"}', false, 'unrecognized notification format'],
      ['invalid base64', 'eyJldmVudHMiOltdfQ=!', true, 'body is not valid base64'],
      ['base64 with a bad length', 'eyJldmVudHMiOltdf', true, 'body is not valid base64'],
      [
        'base64 of invalid UTF-8',
        Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64'),
        true,
        'body is not valid UTF-8',
      ],
    ])('answers 400 to %s', (_case, body, isBase64Encoded, message) => {
      // Act
      const decision = acceptWebhook({ ...post(body), isBase64Encoded }, options);

      // Assess
      expect(decision).toEqual({ statusCode: 400, message, repositories: [], ignored: 0, events: [] });
    });

    it('accepts base64 without padding', () => {
      // Prepare
      const encoded = Buffer.from('{"events":[]}').toString('base64').replace(/=+$/, '');

      // Act
      const decision = acceptWebhook({ ...post(encoded), isBase64Encoded: true }, options);

      // Assess
      expect(decision).toEqual({
        statusCode: 202,
        message: 'accepted 0 repositories, ignored 0 events',
        repositories: [],
        ignored: 0,
        events: [],
      });
    });

    it('answers 202 with nothing to queue when no event is actionable, so the registry stops retrying', () => {
      // Act
      const decision = acceptWebhook(post(readEventFixture('distribution-delete')), options);

      // Assess: nothing to queue, but both deletes are events for the ledger (from the same parse).
      expect(decision).toEqual({
        statusCode: 202,
        message: 'accepted 0 repositories, ignored 2 events',
        repositories: [],
        ignored: 2,
        events: [
          expect.objectContaining({
            id: 'b2732b43-6711-4977-a77c-453b8408e09d',
            action: 'delete',
            repository: 'apps/web',
            digest: 'sha256:769b3caf35bfc73b270f28f14e38a4be078f05887d7e7a2eb902738f088df247',
          }),
          expect.objectContaining({
            id: '4f905a93-a966-4437-a3e0-07e7ad042ed1',
            action: 'delete',
            repository: 'apps/web',
            tag: 'main-1a2b3c4',
          }),
        ],
      });
    });
  });
});
