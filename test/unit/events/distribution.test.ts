import {
  DISTRIBUTION_EVENTS_V1,
  DISTRIBUTION_EVENTS_V2,
  MAX_EVENTS_PER_ENVELOPE,
  parseNotification,
} from '../../../lambda/events';
import { MediaType } from '../../../lambda/domain';
import { readEventFixture } from '../../fixtures/events';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

/** A manifest push event shaped like distribution's, with the given fields replaced. */
function pushEvent(overrides: { id?: unknown; action?: string; target?: object; request?: object } = {}) {
  return {
    id: 'id' in overrides ? overrides.id : 'event-1',
    timestamp: '2026-11-28T01:17:26.10296785Z',
    action: overrides.action ?? 'push',
    target: {
      mediaType: MediaType.DockerManifest,
      size: 423,
      digest: DIGEST,
      length: 423,
      repository: 'apps/web',
      url: `http://127.0.0.1:5055/v2/apps/web/manifests/${DIGEST}`,
      tag: 'main-1a2b3c4',
      ...overrides.target,
    },
    request: {
      id: 'r-1',
      addr: '127.0.0.1:1',
      host: '127.0.0.1:5055',
      method: 'PUT',
      useragent: 'docker/24.0.7',
      ...overrides.request,
    },
    actor: {},
    source: { addr: 'vm:5055', instanceID: 'i-1' },
  };
}

function envelope(...events: unknown[]): string {
  return JSON.stringify({ events });
}

describe('Function: parseNotification (distribution)', () => {
  describe('captured registry notifications', () => {
    it('keeps a manifest push with a tag', () => {
      // Act
      const parsed = parseNotification(
        readEventFixture('distribution-push-manifest'),
        DISTRIBUTION_EVENTS_V1,
      );

      // Assess
      expect(parsed).toEqual({
        format: 'distribution',
        ignored: 0,
        repositories: [
          {
            repository: 'apps/web',
            eventIds: ['57faf402-3897-401c-8c8a-e1cf9ee1fd54'],
            tags: ['main-1a2b3c4'],
            pushed: [
              {
                tag: 'main-1a2b3c4',
                digest: 'sha256:769b3caf35bfc73b270f28f14e38a4be078f05887d7e7a2eb902738f088df247',
              },
            ],
          },
        ],
      });
    });

    it.each([
      ['distribution-push-blob', 1],
      ['distribution-pull', 1],
      ['distribution-delete', 2],
    ] as const)('ignores every event of %s', (fixture, ignored) => {
      // Act
      const parsed = parseNotification(readEventFixture(fixture), DISTRIBUTION_EVENTS_V1);

      // Assess
      expect(parsed.repositories).toEqual([]);
      expect(parsed.ignored).toBe(ignored);
    });

    it('merges a mixed envelope per repository and drops blobs, pulls, mounts, deletes, own pushes and hostile names', () => {
      // Act
      const parsed = parseNotification(readEventFixture('distribution-mixed'), DISTRIBUTION_EVENTS_V1);

      // Assess
      expect(parsed.repositories).toEqual([
        {
          repository: 'apps/web',
          eventIds: ['57faf402-3897-401c-8c8a-e1cf9ee1fd54', 'f92d273c-30be-4c39-88f4-fec9285314f8'],
          tags: ['main-1a2b3c4', 'v1.2.3'],
          pushed: [
            {
              tag: 'main-1a2b3c4',
              digest: 'sha256:769b3caf35bfc73b270f28f14e38a4be078f05887d7e7a2eb902738f088df247',
            },
            {
              tag: 'v1.2.3',
              digest: 'sha256:3a9c391ac85a8e0cb3b915cd87124fe43503f2129ac1670909ab7a599e82ad7d',
            },
          ],
        },
        {
          repository: 'apps/api',
          eventIds: ['c1f2e3d4-5a6b-4c7d-8e9f-a0b1c2d3e4f5'],
          tags: ['pr-42-0f1e2d3'],
          pushed: [
            {
              tag: 'pr-42-0f1e2d3',
              digest: 'sha256:14c2529eb4498c5d1ffd6915d05bf58a91bdda796af59f41d480d11c099d0479',
            },
          ],
        },
      ]);
      expect(parsed.ignored).toBe(10);
    });

    it('reads the distribution 3 (v2 content type) envelope the same way', () => {
      // Act
      const parsed = parseNotification(readEventFixture('distribution-v2-push'), DISTRIBUTION_EVENTS_V2);

      // Assess
      expect(parsed.repositories).toEqual([
        {
          repository: 'apps/worker',
          eventIds: ['5f0e8d1c-7a2b-4c3d-9e8f-1a2b3c4d5e6f'],
          tags: ['1.4.0'],
          pushed: [
            {
              tag: '1.4.0',
              digest: 'sha256:87eba76e7f3164534045ba922e7770fb58bbd14ad732bbf5ba6f11cc56989e6e',
            },
          ],
        },
      ]);
    });
  });

  describe('filtering', () => {
    it.each([
      MediaType.OciIndex,
      MediaType.OciManifest,
      MediaType.DockerManifestList,
      MediaType.DockerSchema1Signed,
    ])('keeps a push of manifest type %s', (mediaType) => {
      // Act
      const parsed = parseNotification(envelope(pushEvent({ target: { mediaType } })));

      // Assess
      expect(parsed.repositories.map((entry) => entry.repository)).toEqual(['apps/web']);
    });

    it.each([
      ['a config blob', { target: { mediaType: MediaType.DockerConfig } }],
      ['a layer blob', { target: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' } }],
      ['a push by digest (no tag)', { target: { tag: undefined } }],
      ['a tag that breaks the grammar', { target: { tag: '-bad' } }],
      ['a pull', { action: 'pull' }],
      ['a mount', { action: 'mount' }],
      ['a delete', { action: 'delete' }],
      ['a push made by regsweep', { request: { useragent: 'regsweep/0.1.0 (placeholder)' } }],
      ['a parent-directory name', { target: { repository: 'apps/../etc' } }],
      ['an encoded slash', { target: { repository: 'apps%2Fweb' } }],
      ['an upper-case name', { target: { repository: 'Apps/web' } }],
      ['an over-long name', { target: { repository: 'a'.repeat(256) } }],
      ['a name that is not a string', { target: { repository: ['apps/web'] } }],
    ])('ignores %s', (_case, overrides) => {
      // Act
      const parsed = parseNotification(
        envelope(pushEvent(overrides), pushEvent({ id: 'good', target: { repository: 'ok' } })),
      );

      // Assess
      expect(parsed.repositories.map((entry) => entry.repository)).toEqual(['ok']);
      expect(parsed.ignored).toBe(1);
    });

    it('counts events that are not objects as ignored', () => {
      // Act
      const parsed = parseNotification(envelope(null, 42, 'push', [pushEvent()]));

      // Assess
      expect(parsed).toEqual({ format: 'distribution', repositories: [], ignored: 4 });
    });

    it('answers an empty envelope with nothing to do rather than an error', () => {
      // Act
      const parsed = parseNotification('{"events":[]}', DISTRIBUTION_EVENTS_V1);

      // Assess
      expect(parsed).toEqual({ format: 'distribution', repositories: [], ignored: 0 });
    });

    it('accepts a media type with parameters and odd case', () => {
      // Act
      const parsed = parseNotification(
        envelope(
          pushEvent({ target: { mediaType: 'Application/VND.OCI.image.manifest.v1+json; charset=utf-8' } }),
        ),
      );

      // Assess
      expect(parsed.repositories).toHaveLength(1);
    });

    it('never reads members inherited from Object.prototype', () => {
      // Prepare: a polluted prototype (from some other code) must not give a digest push a tag.
      const body = envelope(pushEvent({ target: { tag: undefined } }));
      const prototype = Object.prototype as Record<string, unknown>;
      prototype.tag = 'polluted';

      // Act
      let parsed;
      try {
        parsed = parseNotification(body);
      } finally {
        delete prototype.tag;
      }

      // Assess
      expect(parsed.repositories).toEqual([]);
      expect(parsed.ignored).toBe(1);
    });
  });

  describe('event ids', () => {
    it('unions event ids and tags when several events name one repository', () => {
      // Act
      const parsed = parseNotification(
        envelope(
          pushEvent({ id: 'a', target: { tag: 'one' } }),
          pushEvent({ id: 'b', target: { tag: 'two' } }),
          pushEvent({ id: 'a', target: { tag: 'one' } }),
        ),
      );

      // Assess
      expect(parsed.repositories).toEqual([
        {
          repository: 'apps/web',
          eventIds: ['a', 'b'],
          tags: ['one', 'two'],
          pushed: [
            { tag: 'one', digest: DIGEST },
            { tag: 'two', digest: DIGEST },
          ],
        },
      ]);
    });

    it('keeps the last digest pushed under each tag, and holds nothing for a push without a valid digest', () => {
      // Act
      const later = `sha256:${'b'.repeat(64)}`;
      const parsed = parseNotification(
        envelope(
          pushEvent({ id: 'a', target: { tag: 'prod' } }),
          pushEvent({ id: 'b', target: { tag: 'prod', digest: later } }),
          pushEvent({ id: 'c', target: { tag: 'odd', digest: 'not-a-digest' } }),
        ),
      );

      // Assess: the repository is queued for all three; only valid digests are held.
      expect(parsed.repositories).toEqual([
        {
          repository: 'apps/web',
          eventIds: ['a', 'b', 'c'],
          tags: ['prod', 'odd'],
          pushed: [{ tag: 'prod', digest: later }],
        },
      ]);
    });

    it('derives a stable id when the event has none, and hashes ids that are unsafe to carry', () => {
      // Prepare
      const body = envelope(
        pushEvent({ id: null, target: { tag: 'derived' } }),
        pushEvent({ id: 'x'.repeat(500), target: { tag: 'long' } }),
        pushEvent({ id: 'with space\uffff', target: { tag: 'odd' } }),
      );

      // Act
      const first = parseNotification(body).repositories[0]?.eventIds;
      const second = parseNotification(body).repositories[0]?.eventIds;

      // Assess
      expect(first).toHaveLength(3);
      expect(first).toEqual(second);
      for (const id of first ?? []) expect(id).toMatch(/^[0-9a-f]{64}$/);
    });
  });

  describe('robustness', () => {
    it(`reads at most ${MAX_EVENTS_PER_ENVELOPE} events and counts the rest as ignored`, () => {
      // Prepare
      const events = Array.from({ length: MAX_EVENTS_PER_ENVELOPE + 5 }, (_, index) =>
        pushEvent({ id: `e${index}`, target: { repository: `r${index}` } }),
      );

      // Act
      const parsed = parseNotification(envelope(...events));

      // Assess (the cap is what bounds the work; jest's timeout bounds the time)
      expect(parsed.repositories).toHaveLength(MAX_EVENTS_PER_ENVELOPE);
      expect(parsed.ignored).toBe(5);
    });

    it('handles deeply nested input without blowing the stack', () => {
      // Prepare: 100,000 levels inside an event, and a body that is only nesting.
      const depth = 100_000;
      const nestedEvent = `{"events":[{"action":"push","target":${'['.repeat(depth)}${']'.repeat(depth)}}]}`;

      // Act
      const parsed = parseNotification(nestedEvent);

      // Assess
      expect(parsed).toEqual({ format: 'distribution', repositories: [], ignored: 1 });
      expect(() => parseNotification('['.repeat(depth) + ']'.repeat(depth))).toThrow('not a JSON object');
    });
  });
});
