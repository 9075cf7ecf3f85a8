import { createHash } from 'node:crypto';
import { CLOUDEVENTS_JSON, HARBOR_CLOUDEVENTS_PUSHED, parseNotification } from '../../../lambda/events';
import { loadEventFixture, readEventFixture } from '../../fixtures/events';

const DIGEST = `sha256:${'8a'.repeat(32)}`;

function harborDefault(
  type: string,
  resources: unknown[],
  repository: object = { repo_full_name: 'apps/web' },
) {
  return JSON.stringify({
    type,
    occur_at: 1795830000,
    operator: 'admin',
    event_data: { resources, repository },
  });
}

function harborCloudEvent(type: string, data: unknown, id: unknown = 'ce-1') {
  return JSON.stringify({
    specversion: '1.0',
    id,
    source: '/projects/2/webhook/policies/3',
    type,
    time: '2026-11-28T02:20:00Z',
    data,
  });
}

describe('Function: parseNotification (Harbor default format)', () => {
  it('keeps a tagged PUSH_ARTIFACT under its full project/repository name', () => {
    // Act
    const parsed = parseNotification(readEventFixture('harbor-push'), 'application/json');

    // Assess
    expect(parsed.format).toBe('harbor');
    expect(parsed.ignored).toBe(0);
    expect(parsed.repositories).toEqual([
      {
        repository: 'apps/web',
        eventIds: [expect.stringMatching(/^[0-9a-f]{64}$/)],
        tags: ['v1.2.3'],
        pushed: [
          {
            tag: 'v1.2.3',
            digest: 'sha256:8a9e9863dbb6e10edb5adfe917c00da84e1700fa76e7ed02476aa6e6fb8ee0d8',
          },
        ],
      },
    ]);
  });

  it('derives the event id from type, repository, digest, tag and occur_at', () => {
    // Prepare
    const fixture = loadEventFixture<{ occur_at: number; event_data: { resources: { digest: string }[] } }>(
      'harbor-push',
    );
    const expected = createHash('sha256')
      .update(
        JSON.stringify([
          'harbor',
          'PUSH_ARTIFACT',
          'apps/web',
          fixture.event_data.resources[0]?.digest,
          'v1.2.3',
          String(fixture.occur_at),
        ]),
      )
      .digest('hex');

    // Act
    const parsed = parseNotification(readEventFixture('harbor-push'));

    // Assess
    expect(parsed.repositories[0]?.eventIds).toEqual([expected]);
  });

  it('gives a retried post the same id and a later push of the same tag a new one', () => {
    // Prepare
    const resources = [{ digest: DIGEST, tag: 'latest' }];
    const later = harborDefault('PUSH_ARTIFACT', resources).replace('1795830000', '1795830060');

    // Act
    const first = parseNotification(harborDefault('PUSH_ARTIFACT', resources)).repositories[0]?.eventIds;
    const retry = parseNotification(harborDefault('PUSH_ARTIFACT', resources)).repositories[0]?.eventIds;
    const next = parseNotification(later).repositories[0]?.eventIds;

    // Assess
    expect(retry).toEqual(first);
    expect(next).not.toEqual(first);
  });

  it('ignores resources without a usable tag (Harbor reports a digest push with the digest as tag)', () => {
    // Act
    const parsed = parseNotification(
      harborDefault('PUSH_ARTIFACT', [
        { digest: DIGEST, tag: DIGEST },
        { digest: DIGEST },
        { digest: DIGEST, tag: 'stable' },
      ]),
    );

    // Assess
    expect(parsed.repositories).toEqual([
      {
        repository: 'apps/web',
        eventIds: [expect.any(String)],
        tags: ['stable'],
        pushed: [{ tag: 'stable', digest: DIGEST }],
      },
    ]);
    expect(parsed.ignored).toBe(2);
  });

  it.each(['DELETE_ARTIFACT', 'PULL_ARTIFACT', 'SCANNING_COMPLETED', 'QUOTA_WARNING'])(
    'ignores %s',
    (type) => {
      // Act
      const parsed = parseNotification(harborDefault(type, [{ digest: DIGEST, tag: 'latest' }]));

      // Assess
      expect(parsed).toEqual({ format: 'harbor', repositories: [], ignored: 1 });
    },
  );

  it('falls back to namespace/name and drops an invalid repository name', () => {
    // Act
    const joined = parseNotification(
      harborDefault('PUSH_ARTIFACT', [{ tag: 'a' }], { namespace: 'team', name: 'app' }),
    );
    const hostile = parseNotification(
      harborDefault('PUSH_ARTIFACT', [{ tag: 'a' }], { repo_full_name: 'team/../app' }),
    );

    // Assess
    expect(joined.repositories.map((entry) => entry.repository)).toEqual(['team/app']);
    expect(hostile).toEqual({ format: 'harbor', repositories: [], ignored: 1 });
  });

  it('counts a push without resources as one ignored event', () => {
    // Act
    const parsed = parseNotification(harborDefault('PUSH_ARTIFACT', []));

    // Assess
    expect(parsed).toEqual({ format: 'harbor', repositories: [], ignored: 1 });
  });
});

describe('Function: parseNotification (Harbor CloudEvents)', () => {
  it('keeps a harbor.artifact.pushed event with the CloudEvent id', () => {
    // Act
    const parsed = parseNotification(readEventFixture('harbor-cloudevents-push'), CLOUDEVENTS_JSON);

    // Assess
    expect(parsed).toEqual({
      format: 'harbor-cloudevents',
      ignored: 0,
      repositories: [
        {
          repository: 'apps/web',
          eventIds: ['66e18103-09c1-41f6-982f-37df223f3eeb'],
          tags: ['main-1a2b3c4'],
          pushed: [
            {
              tag: 'main-1a2b3c4',
              digest: 'sha256:8a9e9863dbb6e10edb5adfe917c00da84e1700fa76e7ed02476aa6e6fb8ee0d8',
            },
          ],
        },
      ],
    });
  });

  it('also reads a data member that wraps the whole default payload', () => {
    // Prepare
    const data = {
      type: 'PUSH_ARTIFACT',
      event_data: { resources: [{ tag: 'v2' }], repository: { repo_full_name: 'apps/api' } },
    };

    // Act
    const parsed = parseNotification(harborCloudEvent(HARBOR_CLOUDEVENTS_PUSHED, data));

    // Assess: no digest in the resource, so nothing to hold.
    expect(parsed.repositories).toEqual([
      { repository: 'apps/api', eventIds: ['ce-1'], tags: ['v2'], pushed: [] },
    ]);
  });

  it.each(['harbor.artifact.deleted', 'harbor.artifact.pulled', 'harbor.scan.completed'])(
    'ignores %s',
    (type) => {
      // Act
      const parsed = parseNotification(
        harborCloudEvent(type, {
          resources: [{ tag: 'x' }, { tag: 'y' }],
          repository: { repo_full_name: 'apps/web' },
        }),
      );

      // Assess
      expect(parsed).toEqual({ format: 'harbor-cloudevents', repositories: [], ignored: 2 });
    },
  );

  it('tolerates data that is not an object', () => {
    // Act
    const parsed = parseNotification(harborCloudEvent(HARBOR_CLOUDEVENTS_PUSHED, 'opaque'));

    // Assess
    expect(parsed).toEqual({ format: 'harbor-cloudevents', repositories: [], ignored: 1 });
  });

  it('derives an id when the CloudEvent has none', () => {
    // Prepare
    const data = { resources: [{ digest: DIGEST, tag: 'v1' }], repository: { repo_full_name: 'apps/web' } };

    // Act
    const parsed = parseNotification(harborCloudEvent(HARBOR_CLOUDEVENTS_PUSHED, data, 7));

    // Assess
    expect(parsed.repositories[0]?.eventIds).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)]);
  });
});
