import { createHash } from 'node:crypto';
import { MediaType } from '../../../lambda/domain';
import {
  CLOUDEVENTS_JSON,
  DISTRIBUTION_EVENTS_V1,
  DISTRIBUTION_EVENTS_V2,
  MAX_EVENTS_PER_ENVELOPE,
  parseNotification,
  registryEventsOf,
  WebhookPayloadError,
} from '../../../lambda/events';
import { readEventFixture } from '../../fixtures/events';

const NOW = new Date('2026-12-02T06:00:00Z');
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const WORKER = 'sha256:87eba76e7f3164534045ba922e7770fb58bbd14ad732bbf5ba6f11cc56989e6e';

/** A manifest event shaped like distribution's, with the given fields replaced. */
function manifestEvent(overrides: Record<string, unknown> = {}, target: object = {}, request: object = {}) {
  return {
    id: 'event-1',
    timestamp: '2026-11-28T01:17:26.10296785Z',
    action: 'push',
    target: {
      mediaType: MediaType.DockerManifest,
      size: 423,
      digest: DIGEST,
      length: 423,
      repository: 'apps/web',
      url: `http://169.254.169.254/v2/apps/web/manifests/${DIGEST}`,
      tag: 'main-1a2b3c4',
      ...target,
    },
    request: {
      id: 'r-1',
      addr: '10.0.0.9:1',
      host: 'evil.example:5000',
      method: 'PUT',
      useragent: 'docker/24.0.7',
      ...request,
    },
    actor: {},
    source: { addr: 'vm:5055', instanceID: 'i-1' },
    ...overrides,
  };
}

function envelope(...events: unknown[]): string {
  return JSON.stringify({ events });
}

function eventsOf(body: string, contentType: string = DISTRIBUTION_EVENTS_V1) {
  return registryEventsOf(body, { contentType, now: NOW });
}

describe('Function: registryEventsOf (distribution)', () => {
  describe('notifications as distribution sends them', () => {
    it('returns a tagged manifest push with its id, digest, media type, size, user agent and time', () => {
      // Act
      const result = eventsOf(readEventFixture('distribution-push-manifest'));

      // Assess
      expect(result).toStrictEqual({
        format: 'distribution',
        ignored: 0,
        invalid: 0,
        events: [
          {
            id: '57faf402-3897-401c-8c8a-e1cf9ee1fd54',
            action: 'push',
            repository: 'apps/web',
            digest: 'sha256:769b3caf35bfc73b270f28f14e38a4be078f05887d7e7a2eb902738f088df247',
            tag: 'main-1a2b3c4',
            mediaType: MediaType.DockerManifest,
            size: 423,
            userAgent:
              'docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/6.5.0 os/linux arch/amd64 UpstreamClient(Docker-Client/24.0.7 \\(linux\\))',
            timestamp: new Date('2026-11-28T01:17:26.102Z'),
          },
        ],
      });
    });

    it('returns a push by digest without a tag', () => {
      // Act
      const result = eventsOf(readEventFixture('distribution-push-by-digest'));

      // Assess
      expect(result.events).toStrictEqual([
        {
          id: 'a4c2e8f0-6b1d-4f3a-9e5c-8d7b0a2f4e61',
          action: 'push',
          repository: 'apps/web',
          digest: 'sha256:ddc9e669194254cef019a29d3619a2c16592e5d52e1a81e98b01bd52319149a3',
          mediaType: MediaType.DockerManifest,
          size: 423,
          userAgent: 'buildkit/v0.12',
          timestamp: new Date('2026-11-28T01:17:26.108Z'),
        },
      ]);
    });

    it("returns every pull with its user agent, regsweep's own HEAD included (the ledger filters)", () => {
      // Act
      const result = eventsOf(readEventFixture('distribution-v2-pulls'), DISTRIBUTION_EVENTS_V2);

      // Assess
      const pulled = {
        action: 'pull',
        repository: 'apps/worker',
        digest: WORKER,
        tag: '1.4.0',
        mediaType: MediaType.OciManifest,
        size: 1021,
      };
      expect(result).toStrictEqual({
        format: 'distribution',
        ignored: 0,
        invalid: 0,
        events: [
          {
            id: '8d3f6a2e-1b4c-4e7a-9f0d-2c5b8e1a4d7f',
            ...pulled,
            userAgent: 'containerd/v1.7.22',
            timestamp: new Date('2026-11-28T02:06:40.118Z'),
          },
          {
            id: '3e9b1c7d-5f2a-4b8e-a6d0-7c4f1e9b2a5d',
            ...pulled,
            userAgent: 'regsweep/0.2.0',
            timestamp: new Date('2026-11-28T02:07:02.500Z'),
          },
        ],
      });
    });

    it("reads distribution 3's tag-delete echo (digest, media type and size empty) as a delete of the tag alone", () => {
      // Act
      const result = eventsOf(readEventFixture('distribution-v2-tag-delete'), DISTRIBUTION_EVENTS_V2);

      // Assess
      expect(result.events).toStrictEqual([
        {
          id: '6c1e4a9f-2d7b-4c3e-8f5a-0b9d2e6c1a47',
          action: 'delete',
          repository: 'apps/worker',
          tag: '1.4.0',
          userAgent: 'regsweep/0.2.0',
          timestamp: new Date('2026-11-28T02:10:15.903Z'),
        },
      ]);
    });

    it("reads distribution 3's digest-delete echo as a digest delete and a delete of each tag it had", () => {
      // Act
      const result = eventsOf(readEventFixture('distribution-v2-digest-delete'), DISTRIBUTION_EVENTS_V2);

      // Assess
      expect(result.invalid).toBe(0);
      expect(result.events.map(({ action, digest, tag }) => ({ action, digest, tag }))).toStrictEqual([
        {
          action: 'delete',
          digest: 'sha256:4b1c9e2f7a3d5e8c0b6f1a9d2e7c4b8a3f5d0e9c1b7a2f6e4d8c3b9a0f5e1d2c',
          tag: undefined,
        },
        { action: 'delete', digest: undefined, tag: '1.3.9' },
      ]);
      expect(result.events[0]).not.toHaveProperty('mediaType');
      expect(result.events[0]).not.toHaveProperty('size');
    });

    it('reads the 2.8.2 digest-delete echo (no empty fields there) the same way', () => {
      // Act
      const result = eventsOf(readEventFixture('distribution-delete'));

      // Assess
      expect(result.events.map(({ action, digest, tag }) => ({ action, digest, tag }))).toStrictEqual([
        {
          action: 'delete',
          digest: 'sha256:769b3caf35bfc73b270f28f14e38a4be078f05887d7e7a2eb902738f088df247',
          tag: undefined,
        },
        { action: 'delete', digest: undefined, tag: 'main-1a2b3c4' },
      ]);
    });

    it('skips blob pushes and mounts, counts hostile repository names as invalid, keeps the rest in order', () => {
      // Act
      const result = eventsOf(readEventFixture('distribution-mixed'));

      // Assess
      expect(result.ignored).toBe(3);
      expect(result.invalid).toBe(2);
      expect(
        result.events.map((event) => `${event.action} ${event.repository} ${event.tag ?? event.digest}`),
      ).toEqual([
        'push apps/web main-1a2b3c4',
        'push apps/web sha256:ddc9e669194254cef019a29d3619a2c16592e5d52e1a81e98b01bd52319149a3',
        'push apps/web v1.2.3',
        'push apps/api pr-42-0f1e2d3',
        'pull apps/web v1.2.3',
        'delete apps/web sha256:769b3caf35bfc73b270f28f14e38a4be078f05887d7e7a2eb902738f088df247',
        'delete apps/web main-1a2b3c4',
        // regsweep's own placeholder push is a push all the same: the ledger records what happened.
        'push apps/web main-1a2b3c4',
      ]);
    });
  });

  describe('validation', () => {
    it.each([
      ['a repository with ..', manifestEvent({}, { repository: 'apps/../secrets' })],
      ['an upper-case repository', manifestEvent({}, { repository: 'Apps/Web' })],
      ['a repository that is not a string', manifestEvent({}, { repository: ['apps/web'] })],
      ['no repository', manifestEvent({}, { repository: undefined })],
      ['a tag with a space', manifestEvent({}, { tag: 'main 1' })],
      ['a tag that is a number', manifestEvent({}, { tag: 7 })],
      ['an upper-case digest', manifestEvent({}, { digest: `sha256:${'AB'.repeat(32)}` })],
      ['a short digest', manifestEvent({}, { digest: 'sha256:abc' })],
      ['a digest with a path', manifestEvent({}, { digest: 'sha256:../../etc' })],
      ['a push without a digest', manifestEvent({}, { digest: undefined })],
      ['a pull with an empty digest', manifestEvent({ action: 'pull' }, { digest: '' })],
      [
        'a delete with a bad digest',
        manifestEvent({ action: 'delete' }, { mediaType: undefined, digest: 'x:' }),
      ],
    ])('counts %s as invalid and returns nothing of it', (_case, event) => {
      // Act
      const result = eventsOf(envelope(event));

      // Assess
      expect(result).toMatchObject({ events: [], ignored: 0, invalid: 1 });
    });

    it.each([
      ['a blob push', manifestEvent({}, { mediaType: 'application/octet-stream', tag: undefined })],
      ['a config blob pull', manifestEvent({ action: 'pull' }, { mediaType: MediaType.OciConfig })],
      ['a push without a media type', manifestEvent({}, { mediaType: undefined })],
      ['a mount', manifestEvent({ action: 'mount' }, { mediaType: 'application/octet-stream' })],
      ['an upper-case action', manifestEvent({ action: 'PUSH' })],
      [
        'a delete of a blob media type',
        manifestEvent({ action: 'delete' }, { mediaType: 'application/octet-stream' }),
      ],
      [
        "distribution's repository delete (neither digest nor tag)",
        manifestEvent({ action: 'delete' }, { mediaType: '', digest: '', tag: undefined, size: 0 }),
      ],
      ['an event that is not an object', 'push'],
      ['an event without a target', { id: 'e', action: 'push' }],
    ])('ignores %s', (_case, event) => {
      // Act
      const result = eventsOf(envelope(event));

      // Assess
      expect(result).toMatchObject({ events: [], ignored: 1, invalid: 0 });
    });

    it('strips media type parameters and keeps every manifest media type', () => {
      // Prepare
      const mediaTypes = [
        `${MediaType.OciIndex}; charset=utf-8`,
        MediaType.OciManifest,
        MediaType.DockerManifestList,
        MediaType.DockerManifest,
        MediaType.DockerSchema1,
        MediaType.DockerSchema1Signed,
      ];

      // Act
      const result = eventsOf(envelope(...mediaTypes.map((mediaType) => manifestEvent({}, { mediaType }))));

      // Assess
      expect(result.events.map((event) => event.mediaType)).toEqual([
        MediaType.OciIndex,
        ...mediaTypes.slice(1),
      ]);
    });

    it('leaves out a size that is not a positive whole number and an empty user agent', () => {
      // Act
      const result = eventsOf(
        envelope(
          manifestEvent({}, { size: 0 }, { useragent: '' }),
          manifestEvent({}, { size: 1.5 }, { useragent: 7 }),
          manifestEvent({}, { size: '423' }),
        ),
      );

      // Assess
      for (const event of result.events) expect(event).not.toHaveProperty('size');
      expect(result.events[0]).not.toHaveProperty('userAgent');
      expect(result.events[1]).not.toHaveProperty('userAgent');
    });

    it('never reads target.url, request.host or source.addr', () => {
      // Act
      const result = eventsOf(envelope(manifestEvent(), manifestEvent({ action: 'pull' })));

      // Assess
      const text = JSON.stringify(result);
      expect(result.events).toHaveLength(2);
      expect(text).not.toContain('169.254');
      expect(text).not.toContain('evil.example');
      expect(text).not.toContain('vm:5055');
    });
  });

  describe('timestamps and ids', () => {
    it.each([
      ['missing', undefined],
      ['not a time', 'yesterday'],
      ['a bare number', '1'],
      ['a number', 1795828646],
      ["Go's zero time", '0001-01-01T00:00:00Z'],
      ['an impossible date', '2026-13-45T00:00:00Z'],
    ])('uses now for a timestamp that is %s', (_case, timestamp) => {
      // Act
      const [event] = eventsOf(envelope(manifestEvent({ timestamp }))).events;

      // Assess
      expect(event?.timestamp).toEqual(NOW);
    });

    it('reads an RFC 3339 time with an offset', () => {
      // Act
      const [event] = eventsOf(envelope(manifestEvent({ timestamp: '2026-11-28T03:17:26.5+02:00' }))).events;

      // Assess
      expect(event?.timestamp).toEqual(new Date('2026-11-28T01:17:26.500Z'));
    });

    it("derives a missing id from the event's fields: a push's as parseNotification derives it, a pull's apart", () => {
      // Prepare
      const push = manifestEvent({ id: undefined });
      const pull = manifestEvent({ id: undefined, action: 'pull' });

      // Act
      const result = eventsOf(envelope(push, pull));
      const notification = parseNotification(envelope(push), DISTRIBUTION_EVENTS_V1);

      // Assess
      const expected = createHash('sha256')
        .update(JSON.stringify(['distribution', 'apps/web', DIGEST, 'main-1a2b3c4', push.timestamp]))
        .digest('hex');
      expect(result.events[0]?.id).toBe(expected);
      expect(notification.repositories[0]?.eventIds).toEqual([expected]);
      expect(result.events[1]?.id).toMatch(/^[0-9a-f]{64}$/);
      expect(result.events[1]?.id).not.toBe(expected);
    });
  });

  it(`reads at most MAX_EVENTS_PER_ENVELOPE (${MAX_EVENTS_PER_ENVELOPE}) events and ignores the rest`, () => {
    // Prepare
    const events = Array.from({ length: MAX_EVENTS_PER_ENVELOPE + 2 }, (_, index) =>
      manifestEvent({ id: `event-${index}` }),
    );

    // Act
    const result = eventsOf(envelope(...events));

    // Assess
    expect(result.events).toHaveLength(MAX_EVENTS_PER_ENVELOPE);
    expect(result.events.at(-1)?.id).toBe(`event-${MAX_EVENTS_PER_ENVELOPE - 1}`);
    expect(result.ignored).toBe(2);
  });
});

describe('Function: registryEventsOf (payload errors)', () => {
  it.each([
    ['malformed JSON', '{"events": [', DISTRIBUTION_EVENTS_V1, 'not valid JSON'],
    ['a JSON array', '[{"events":[]}]', DISTRIBUTION_EVENTS_V1, 'not a JSON object'],
    ['an unknown object', '{"hello":"world"}', DISTRIBUTION_EVENTS_V1, 'unrecognized notification format'],
    [
      'events that are not an array',
      '{"events":{"0":{}}}',
      DISTRIBUTION_EVENTS_V1,
      "'events' is not an array",
    ],
    [
      'a distribution envelope sent as a CloudEvent',
      envelope(manifestEvent()),
      CLOUDEVENTS_JSON,
      'unrecognized',
    ],
  ])(
    'rejects %s with a WebhookPayloadError, as parseNotification does',
    (_case, body, contentType, message) => {
      // Act
      const read = () => registryEventsOf(body, { contentType, now: NOW });

      // Assess
      expect(read).toThrow(WebhookPayloadError);
      expect(read).toThrow(message);
      expect(() => parseNotification(body, contentType)).toThrow(message);
    },
  );

  it('accepts a body that starts with a byte order mark', () => {
    // Act
    const result = registryEventsOf(`\uFEFF${readEventFixture('distribution-v2-push')}`, { now: NOW });

    // Assess
    expect(result.events).toHaveLength(1);
  });
});
