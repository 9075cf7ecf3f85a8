import { createHash } from 'node:crypto';
import {
  CLOUDEVENTS_JSON,
  HARBOR_CLOUDEVENTS_DELETED,
  HARBOR_CLOUDEVENTS_PULLED,
  HARBOR_CLOUDEVENTS_PUSHED,
  HARBOR_DELETE_ARTIFACT,
  HARBOR_PULL_ARTIFACT,
  HARBOR_PUSH_ARTIFACT,
  parseNotification,
  registryEventsOf,
} from '../../../lambda/events';
import { readEventFixture } from '../../fixtures/events';

const NOW = new Date('2026-12-02T06:00:00Z');
const DIGEST = 'sha256:8a9e9863dbb6e10edb5adfe917c00da84e1700fa76e7ed02476aa6e6fb8ee0d8';

function harborDefault(type: string, resources: unknown[], extra: object = {}) {
  return JSON.stringify({
    type,
    occur_at: 1795830000,
    operator: 'admin',
    event_data: { resources, repository: { repo_full_name: 'apps/web' } },
    ...extra,
  });
}

function harborCloudEvent(type: string, resources: unknown[], extra: object = {}) {
  return JSON.stringify({
    specversion: '1.0',
    id: 'ce-1',
    source: '/projects/2/webhook/policies/3',
    type,
    time: '2026-11-28T02:20:00Z',
    data: { resources, repository: { repo_full_name: 'apps/web' } },
    ...extra,
  });
}

/** The id eventIdOf derives from these fields (numbers as their text). */
function derivedId(fields: (string | number)[]): string {
  return createHash('sha256')
    .update(JSON.stringify(fields.map(String)))
    .digest('hex');
}

describe('Function: registryEventsOf (Harbor default format)', () => {
  it('reads a PULL_ARTIFACT by digest as a pull without tag, media type or user agent', () => {
    // Act
    const result = registryEventsOf(readEventFixture('harbor-pull'), {
      contentType: 'application/json',
      now: NOW,
    });

    // Assess
    expect(result).toStrictEqual({
      format: 'harbor',
      ignored: 0,
      invalid: 0,
      events: [
        {
          id: derivedId(['harbor', HARBOR_PULL_ARTIFACT, 'apps/web', DIGEST, DIGEST, 1795831200]),
          action: 'pull',
          repository: 'apps/web',
          digest: DIGEST,
          timestamp: new Date(1795831200 * 1000),
        },
      ],
    });
  });

  it('reads a PUSH_ARTIFACT with its tag and the id parseNotification derives', () => {
    // Act
    const result = registryEventsOf(readEventFixture('harbor-push'), { now: NOW });
    const notification = parseNotification(readEventFixture('harbor-push'));

    // Assess
    expect(notification.repositories[0]?.eventIds).toEqual([result.events[0]?.id]);
    expect(result.events).toStrictEqual([
      {
        id: derivedId(['harbor', HARBOR_PUSH_ARTIFACT, 'apps/web', DIGEST, 'v1.2.3', 1795830000]),
        action: 'push',
        repository: 'apps/web',
        digest: DIGEST,
        tag: 'v1.2.3',
        timestamp: new Date(1795830000 * 1000),
      },
    ]);
  });

  it.each([
    [HARBOR_PUSH_ARTIFACT, 'push'],
    [HARBOR_PULL_ARTIFACT, 'pull'],
    [HARBOR_DELETE_ARTIFACT, 'delete'],
  ])('maps %s to %s', (type, action) => {
    // Act
    const result = registryEventsOf(harborDefault(type, [{ digest: DIGEST, tag: 'v1' }]), { now: NOW });

    // Assess
    expect(result.events.map((event) => event.action)).toEqual([action]);
  });

  it.each(['SCANNING_COMPLETED', 'QUOTA_EXCEED', 'REPLICATION', 'constructor', '__proto__', 'toString'])(
    'ignores the type %s',
    (type) => {
      // Act
      const result = registryEventsOf(harborDefault(type, [{ digest: DIGEST, tag: 'v1' }]), { now: NOW });

      // Assess
      expect(result).toMatchObject({ events: [], ignored: 1, invalid: 0 });
    },
  );

  it('counts a resource with a malformed tag or digest as invalid and keeps the others', () => {
    // Act
    const result = registryEventsOf(
      harborDefault(HARBOR_PUSH_ARTIFACT, [
        { digest: DIGEST, tag: 'v1' },
        { digest: DIGEST, tag: 'bad tag' },
        { digest: 'sha256:0', tag: 'v2' },
        { tag: 'v3' },
      ]),
      { now: NOW },
    );

    // Assess
    expect(result.events.map((event) => event.tag)).toEqual(['v1']);
    expect(result.invalid).toBe(3);
  });

  it('uses now when occur_at is missing or not whole seconds', () => {
    // Act
    const results = [undefined, '1795830000', 1.5, -1].map(
      (occurAt) =>
        registryEventsOf(
          harborDefault(HARBOR_PUSH_ARTIFACT, [{ digest: DIGEST, tag: 'v1' }], { occur_at: occurAt }),
          {
            now: NOW,
          },
        ).events[0]?.timestamp,
    );

    // Assess
    expect(results).toEqual([NOW, NOW, NOW, NOW]);
  });
});

describe('Function: registryEventsOf (Harbor CloudEvents)', () => {
  it('reads harbor.artifact.deleted as a delete with digest and tag, under the CloudEvent id and time', () => {
    // Act
    const result = registryEventsOf(readEventFixture('harbor-cloudevents-delete'), {
      contentType: CLOUDEVENTS_JSON,
      now: NOW,
    });

    // Assess
    expect(result).toStrictEqual({
      format: 'harbor-cloudevents',
      ignored: 0,
      invalid: 0,
      events: [
        {
          id: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
          action: 'delete',
          repository: 'apps/web',
          digest: DIGEST,
          tag: 'v1.2.3',
          timestamp: new Date('2026-11-28T03:05:00Z'),
        },
      ],
    });
  });

  it('reads harbor.artifact.pushed as a tagged push', () => {
    // Act
    const result = registryEventsOf(readEventFixture('harbor-cloudevents-push'), {
      contentType: CLOUDEVENTS_JSON,
      now: NOW,
    });

    // Assess
    expect(result.events).toStrictEqual([
      {
        id: '66e18103-09c1-41f6-982f-37df223f3eeb',
        action: 'push',
        repository: 'apps/web',
        digest: DIGEST,
        tag: 'main-1a2b3c4',
        timestamp: new Date('2026-11-28T02:20:00Z'),
      },
    ]);
  });

  it.each([
    [HARBOR_CLOUDEVENTS_PUSHED, 'push'],
    [HARBOR_CLOUDEVENTS_PULLED, 'pull'],
    [HARBOR_CLOUDEVENTS_DELETED, 'delete'],
  ])('maps %s to %s', (type, action) => {
    // Act
    const result = registryEventsOf(harborCloudEvent(type, [{ digest: DIGEST, tag: DIGEST }]), { now: NOW });

    // Assess
    expect(result.events).toStrictEqual([
      {
        id: 'ce-1',
        action,
        repository: 'apps/web',
        digest: DIGEST,
        timestamp: new Date('2026-11-28T02:20:00Z'),
      },
    ]);
  });

  it('ignores other harbor.* types', () => {
    // Act
    const result = registryEventsOf(harborCloudEvent('harbor.scan.completed', [{ digest: DIGEST }]), {
      now: NOW,
    });

    // Assess
    expect(result).toMatchObject({ events: [], ignored: 1, invalid: 0 });
  });

  it('gives resources after the first their own ids, so that the ledger does not take them for retries', () => {
    // Act
    const result = registryEventsOf(
      harborCloudEvent(HARBOR_CLOUDEVENTS_PUSHED, [
        { digest: DIGEST, tag: 'v1' },
        { digest: DIGEST, tag: 'v2' },
      ]),
      { now: NOW },
    );

    // Assess
    const ids = result.events.map((event) => event.id);
    expect(ids[0]).toBe('ce-1');
    expect(ids[1]).toMatch(/^[0-9a-f]{64}$/);
  });

  it('uses now when the CloudEvent has no valid time', () => {
    // Act
    const result = registryEventsOf(
      harborCloudEvent(HARBOR_CLOUDEVENTS_PULLED, [{ digest: DIGEST }], { time: 'soon' }),
      { now: NOW },
    );

    // Assess
    expect(result.events[0]?.timestamp).toEqual(NOW);
  });
});
