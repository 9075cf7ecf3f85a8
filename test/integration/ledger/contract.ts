import { sha256Digest, type Digest } from '../../../lambda/domain';
import {
  ARCHIVE_RETENTION_MS,
  LedgerInputError,
  LedgerRunExistsError,
  LedgerRunNotFoundError,
  PULL_RECORD_INTERVAL_MS,
  type LedgerEvent,
  type LedgerStore,
  type NewRemoval,
} from '../../../lambda/ledger';

/** A clock the test moves by hand. */
export class TestClock {
  private current: number;

  public constructor(start: string) {
    this.current = Date.parse(start);
  }

  public readonly now = (): Date => new Date(this.current);

  public advance(ms: number): void {
    this.current += ms;
  }
}

/** How a contract test gets a fresh, empty store of the adapter under test. */
export interface LedgerFactory {
  open(options: { now: () => Date; archiveRetentionMs?: number }): Promise<LedgerStore>;
}

const START = '2026-11-28T10:00:00.000Z';
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const REPOSITORY = 'apps/web';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** A distinct, well-formed digest per name. */
const digestOf = (name: string): Digest => sha256Digest(name);

let eventCounter = 0;
/** A push/pull/delete event at `at` (ms after START), with a fresh id unless given. */
function event(
  action: LedgerEvent['action'],
  fields: Partial<LedgerEvent> & { at?: number } = {},
): LedgerEvent {
  eventCounter += 1;
  const { at = 0, ...rest } = fields;
  return {
    id: `event-${eventCounter}`,
    action,
    repository: REPOSITORY,
    digest: digestOf('one'),
    mediaType: OCI_MANIFEST,
    timestamp: new Date(Date.parse(START) + at),
    ...rest,
  };
}

/** A removal of `digest` by `runId`, body = every byte value (not valid UTF-8 on purpose). */
function removal(fields: Partial<NewRemoval> = {}): NewRemoval {
  return {
    runId: 'run-1',
    repository: REPOSITORY,
    digest: digestOf('one'),
    tags: ['main-1a2b3c4'],
    mediaType: OCI_MANIFEST,
    body: Uint8Array.from({ length: 512 }, (_, index) => (index * 7) % 256),
    removedAt: new Date(START),
    reason: "beyond keep=3 in stream 'main'",
    ...fields,
  };
}

/**
 * The behaviour every LedgerStore must have, run against each adapter by its own test file.
 * Each test opens a fresh store (its own file or table).
 */
export function describeLedgerContract(adapter: string, factory: () => LedgerFactory): void {
  describe(`Class: LedgerStore (${adapter})`, () => {
    let clock: TestClock;
    let store: LedgerStore;
    const open = async (options: { archiveRetentionMs?: number } = {}) => {
      store = await factory().open({ now: clock.now, ...options });
      return store;
    };

    beforeEach(async () => {
      clock = new TestClock(START);
      await open();
    });

    afterEach(async () => {
      await store.close();
    });

    describe('Method: recordEvents', () => {
      it('writes the tag and the manifest push times for a tagged push, the manifest only for a push by digest', async () => {
        // Act
        const result = await store.recordEvents([
          event('push', { tag: 'latest', size: 1234, at: 0 }),
          event('push', { digest: digestOf('two'), at: MINUTE_MS }),
        ]);

        // Assess
        expect(result).toEqual({ recorded: 2, duplicates: 0, throttled: 0, ignored: 0 });
        expect(await store.listTags(REPOSITORY)).toEqual([
          { repository: REPOSITORY, tag: 'latest', digest: digestOf('one'), pushedAt: new Date(START) },
        ]);
        const manifests = await store.getManifests(REPOSITORY, [digestOf('one'), digestOf('two')]);
        expect(manifests.get(digestOf('one'))).toMatchObject({
          mediaType: OCI_MANIFEST,
          size: 1234,
          firstPushedAt: new Date(START),
          lastPushedAt: new Date(START),
        });
        expect(manifests.get(digestOf('two'))?.lastPushedAt).toEqual(new Date(Date.parse(START) + MINUTE_MS));
        expect(await store.getTag(REPOSITORY, 'missing')).toBeUndefined();
      });

      it('records a retried notification once, in the same call and in a later one', async () => {
        // Prepare
        const push = event('push', { tag: 'latest' });

        // Act
        const first = await store.recordEvents([push, push]);
        const retry = await store.recordEvents([push]);

        // Assess
        expect(first).toEqual({ recorded: 1, duplicates: 1, throttled: 0, ignored: 0 });
        expect(retry).toEqual({ recorded: 0, duplicates: 1, throttled: 0, ignored: 0 });
        expect(await store.history({ repository: REPOSITORY })).toHaveLength(1);
      });

      it('keeps the newest push of a tag and widens first/last push times, whatever the arrival order', async () => {
        // Act: the later push arrives first
        await store.recordEvents([
          event('push', { tag: 'latest', digest: digestOf('new'), at: 10 * MINUTE_MS }),
        ]);
        await store.recordEvents([event('push', { tag: 'latest', digest: digestOf('old'), at: 0 })]);
        await store.recordEvents([
          event('push', { digest: digestOf('new'), at: 20 * MINUTE_MS }),
          event('push', { digest: digestOf('new'), at: 5 * MINUTE_MS }),
        ]);

        // Assess
        expect((await store.getTag(REPOSITORY, 'latest'))?.digest).toBe(digestOf('new'));
        const manifest = (await store.getManifests(REPOSITORY, [digestOf('new')])).get(digestOf('new'));
        expect(manifest?.firstPushedAt).toEqual(new Date(Date.parse(START) + 5 * MINUTE_MS));
        expect(manifest?.lastPushedAt).toEqual(new Date(Date.parse(START) + 20 * MINUTE_MS));
      });

      it("ignores pulls by regsweep's own agent and by ignorePullsFrom agents, and records the others", async () => {
        // Prepare
        const ignorePullsFrom = [/^Trivy\//, /^aws-inspector/];

        // Act
        const result = await store.recordEvents(
          [
            event('pull', { digest: digestOf('own'), userAgent: 'regsweep/0.1.0 (+https://example.test)' }),
            event('pull', { digest: digestOf('own'), userAgent: 'Regsweep/0.1.0' }),
            event('pull', { digest: digestOf('scanned'), userAgent: 'Trivy/0.50.1' }),
            event('pull', { digest: digestOf('scanned'), userAgent: 'aws-inspector-scan' }),
            event('pull', { digest: digestOf('used'), userAgent: 'docker/27.3.1 go/go1.22.7' }),
            event('pull', { digest: digestOf('anonymous'), userAgent: undefined }),
          ],
          { ignorePullsFrom },
        );

        // Assess
        expect(result).toEqual({ recorded: 2, duplicates: 0, throttled: 0, ignored: 4 });
        const manifests = await store.getManifests(
          REPOSITORY,
          ['own', 'scanned', 'used', 'anonymous'].map(digestOf),
        );
        expect(manifests.get(digestOf('own'))).toBeUndefined();
        expect(manifests.get(digestOf('scanned'))).toBeUndefined();
        expect(manifests.get(digestOf('used'))?.lastPulledAt).toEqual(new Date(START));
        expect(manifests.get(digestOf('anonymous'))?.lastPulledAt).toEqual(new Date(START));
      });

      it('writes lastPulledAt at most once an hour per digest', async () => {
        // Prepare
        const pull = (at: number, digest = digestOf('one')) =>
          event('pull', { digest, userAgent: 'docker/27', at });
        const pulledAt = async () =>
          (await store.getManifests(REPOSITORY, [digestOf('one')])).get(digestOf('one'))?.lastPulledAt;

        // Act & Assess: the first pull is written, pulls within the hour are not
        expect(await store.recordEvents([pull(0)])).toMatchObject({ recorded: 1, throttled: 0 });
        expect(
          await store.recordEvents([pull(MINUTE_MS), pull(PULL_RECORD_INTERVAL_MS - 1), pull(0)]),
        ).toMatchObject({ recorded: 0, throttled: 3 });
        expect(await pulledAt()).toEqual(new Date(START));

        // Act & Assess: an hour after the recorded pull, the next one is written; other digests are apart
        expect(
          await store.recordEvents([
            pull(PULL_RECORD_INTERVAL_MS),
            pull(PULL_RECORD_INTERVAL_MS, digestOf('two')),
          ]),
        ).toMatchObject({ recorded: 2, throttled: 0 });
        expect(await pulledAt()).toEqual(new Date(Date.parse(START) + PULL_RECORD_INTERVAL_MS));
        const pulls = await store.history({ repository: REPOSITORY, digest: digestOf('one') });
        expect(pulls.map((entry) => entry.kind)).toEqual(['pull', 'pull']);
      });

      it('ignores blob events, actions it does not know and events without a digest', async () => {
        // Act
        const result = await store.recordEvents([
          event('push', { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }),
          event('push', { digest: undefined, tag: 'latest' }),
          event('pull', { digest: 'not-a-digest' as Digest }),
          { ...event('push'), action: 'mount' as LedgerEvent['action'] },
          event('push', { repository: '' }),
        ]);

        // Assess
        expect(result).toEqual({ recorded: 0, duplicates: 0, throttled: 0, ignored: 5 });
        expect(await store.listManifests(REPOSITORY)).toEqual([]);
      });

      it('marks a deleted digest gone with its tags, deletes a tag alone, and a later push brings the manifest back', async () => {
        // Prepare
        await store.recordEvents([
          event('push', { tag: 'a', digest: digestOf('one'), at: 0 }),
          event('push', { tag: 'b', digest: digestOf('one'), at: 0 }),
          event('push', { tag: 'c', digest: digestOf('two'), at: 0 }),
          event('push', { tag: 'd', digest: digestOf('two'), at: 0 }),
        ]);

        // Act
        await store.recordEvents([
          event('delete', { digest: digestOf('one'), tag: 'a', at: MINUTE_MS }),
          event('delete', { digest: undefined, tag: 'c', at: MINUTE_MS }),
        ]);

        // Assess
        expect((await store.listTags(REPOSITORY)).map((tag) => tag.tag)).toEqual(['d']);
        expect((await store.listManifests(REPOSITORY)).map((manifest) => manifest.digest)).toEqual([
          digestOf('two'),
        ]);
        const gone = (await store.getManifests(REPOSITORY, [digestOf('one')])).get(digestOf('one'));
        expect(gone?.goneAt).toEqual(new Date(Date.parse(START) + MINUTE_MS));

        // Act: pushed again
        await store.recordEvents([event('push', { tag: 'a', digest: digestOf('one'), at: 2 * MINUTE_MS })]);

        // Assess
        const back = (await store.getManifests(REPOSITORY, [digestOf('one')])).get(digestOf('one'));
        expect(back?.goneAt).toBeUndefined();
        expect((await store.listManifests(REPOSITORY)).map((manifest) => manifest.digest).sort()).toEqual(
          [digestOf('one'), digestOf('two')].sort(),
        );
      });

      it('does not let a delete older than the tag push remove the tag', async () => {
        // Prepare
        await store.recordEvents([
          event('push', { tag: 'latest', digest: digestOf('one'), at: 10 * MINUTE_MS }),
        ]);

        // Act
        await store.recordEvents([event('delete', { digest: digestOf('one'), at: MINUTE_MS })]);

        // Assess
        expect((await store.listTags(REPOSITORY)).map((tag) => tag.tag)).toEqual(['latest']);
        expect((await store.listManifests(REPOSITORY)).map((manifest) => manifest.digest)).toEqual([
          digestOf('one'),
        ]);
      });
    });

    describe('Method: putFacts', () => {
      it('stores the facts next to the push and pull times, which it leaves as they are', async () => {
        // Prepare
        await store.recordEvents([
          event('push', { digest: digestOf('index'), mediaType: OCI_INDEX, tag: 'v1', at: 0 }),
          event('pull', { digest: digestOf('index'), userAgent: 'containerd/2.0', at: MINUTE_MS }),
        ]);
        clock.advance(5 * MINUTE_MS);

        // Act
        await store.putFacts(REPOSITORY, [
          {
            digest: digestOf('index'),
            mediaType: OCI_INDEX,
            size: 743,
            created: new Date('2026-11-01T10:00:00Z'),
            children: [digestOf('amd64'), digestOf('arm64')],
          },
          {
            digest: digestOf('amd64'),
            mediaType: OCI_MANIFEST,
            size: 1024,
            configDigest: digestOf('config'),
            blobSizes: { [digestOf('config')]: 1500, [digestOf('layer')]: 31_457_280 },
          },
          { digest: digestOf('signature'), mediaType: OCI_MANIFEST, size: 400, subject: digestOf('index') },
        ]);

        // Assess
        const manifests = await store.getManifests(REPOSITORY, ['index', 'amd64', 'signature'].map(digestOf));
        expect(manifests.get(digestOf('index'))).toEqual({
          repository: REPOSITORY,
          digest: digestOf('index'),
          mediaType: OCI_INDEX,
          size: 743,
          created: new Date('2026-11-01T10:00:00Z'),
          children: [digestOf('amd64'), digestOf('arm64')],
          factsRecordedAt: clock.now(),
          firstPushedAt: new Date(START),
          lastPushedAt: new Date(START),
          lastPulledAt: new Date(Date.parse(START) + MINUTE_MS),
        });
        expect(manifests.get(digestOf('amd64'))).toEqual({
          repository: REPOSITORY,
          digest: digestOf('amd64'),
          mediaType: OCI_MANIFEST,
          size: 1024,
          configDigest: digestOf('config'),
          blobSizes: { [digestOf('config')]: 1500, [digestOf('layer')]: 31_457_280 },
          factsRecordedAt: clock.now(),
        });
        expect(manifests.get(digestOf('signature'))?.subject).toBe(digestOf('index'));
      });

      it('refuses a malformed digest before writing anything', async () => {
        // Act & Assess
        await expect(
          store.putFacts(REPOSITORY, [
            { digest: digestOf('ok'), mediaType: OCI_MANIFEST, size: 1 },
            { digest: 'sha256:short' as Digest, mediaType: OCI_MANIFEST, size: 1 },
          ]),
        ).rejects.toBeInstanceOf(LedgerInputError);
        expect(await store.listManifests(REPOSITORY)).toEqual([]);
      });
    });

    describe('Method: getManifests', () => {
      it('looks up many digests in one call (more than one DynamoDB batch), leaving unknown ones out', async () => {
        // Prepare
        const known = Array.from({ length: 230 }, (_, index) => digestOf(`known-${index}`));
        const unknown = Array.from({ length: 20 }, (_, index) => digestOf(`unknown-${index}`));
        await store.putFacts(
          REPOSITORY,
          known.map((digest, index) => ({ digest, mediaType: OCI_MANIFEST, size: index + 1 })),
        );
        await store.putFacts('apps/other', [
          { digest: unknown[0] as Digest, mediaType: OCI_MANIFEST, size: 9 },
        ]);

        // Act
        const found = await store.getManifests(REPOSITORY, [...unknown, ...known, known[0] as Digest]);

        // Assess
        expect(found.size).toBe(230);
        known.forEach((digest, index) => expect(found.get(digest)?.size).toBe(index + 1));
        expect(unknown.some((digest) => found.has(digest))).toBe(false);
        expect(await store.getManifests(REPOSITORY, [])).toEqual(new Map());
      });
    });

    describe('Method: listManifests', () => {
      it("lists one repository's manifests, from events and facts alike", async () => {
        // Prepare
        await store.recordEvents([
          event('push', { digest: digestOf('pushed') }),
          event('push', { repository: 'apps/web-admin', digest: digestOf('elsewhere') }),
        ]);
        await store.putFacts(REPOSITORY, [{ digest: digestOf('read'), mediaType: OCI_MANIFEST, size: 3 }]);

        // Act
        const manifests = await store.listManifests(REPOSITORY);

        // Assess
        expect(manifests.map((manifest) => manifest.digest).sort()).toEqual(
          [digestOf('pushed'), digestOf('read')].sort(),
        );
      });
    });

    describe('Method: history', () => {
      it('shows pushes, pulls, deletes and archives of a repository, tag or digest, newest first', async () => {
        // Prepare
        await store.recordEvents([
          event('push', { id: 'push-1', tag: 'v1', digest: digestOf('one'), at: 0 }),
          event('pull', { id: 'pull-1', digest: digestOf('one'), userAgent: 'docker/27', at: 2 * MINUTE_MS }),
          event('push', { id: 'push-2', tag: 'v2', digest: digestOf('two'), at: MINUTE_MS }),
        ]);
        await store.createRun({ runId: 'run-1', trigger: 'cli', startedAt: new Date(START) });
        await store.archiveRemoval(
          removal({
            digest: digestOf('one'),
            tags: ['v1'],
            removedAt: new Date(Date.parse(START) + 3 * MINUTE_MS),
          }),
        );
        await store.recordEvents([
          event('delete', { id: 'delete-1', digest: digestOf('one'), tag: 'v1', at: 4 * MINUTE_MS }),
        ]);

        // Act
        const all = await store.history({ repository: REPOSITORY });
        const ofTag = await store.history({ repository: REPOSITORY, tag: 'v1' });
        const ofDigest = await store.history({ repository: REPOSITORY, digest: digestOf('two') });
        const latest = await store.history({ repository: REPOSITORY }, { limit: 2 });

        // Assess
        expect(all.map((entry) => `${entry.kind} ${entry.eventId ?? entry.runId}`)).toEqual([
          'delete delete-1',
          'archive run-1',
          'pull pull-1',
          'push push-2',
          'push push-1',
        ]);
        expect(all[1]).toEqual({
          at: new Date(Date.parse(START) + 3 * MINUTE_MS),
          kind: 'archive',
          repository: REPOSITORY,
          digest: digestOf('one'),
          tag: 'v1',
          runId: 'run-1',
          reason: "beyond keep=3 in stream 'main'",
        });
        expect(ofTag.map((entry) => entry.kind)).toEqual(['delete', 'archive', 'push']);
        expect(ofDigest.map((entry) => entry.eventId)).toEqual(['push-2']);
        expect(latest.map((entry) => entry.kind)).toEqual(['delete', 'archive']);
        expect(await store.history({ repository: 'apps/unknown' })).toEqual([]);
      });
    });

    describe('Method: reserveBudget', () => {
      it('reserves within the budget and refuses, changing nothing, what would exceed it', async () => {
        // Prepare
        const run = await store.createRun({
          runId: 'run-1',
          trigger: 'schedule',
          startedAt: new Date(START),
          budget: 10,
        });

        // Act & Assess
        expect(run).toEqual({
          runId: 'run-1',
          trigger: 'schedule',
          startedAt: new Date(START),
          budget: 10,
          used: 0,
        });
        expect(await store.reserveBudget('run-1', 6)).toBe(true);
        expect(await store.reserveBudget('run-1', 5)).toBe(false);
        expect((await store.getRun('run-1'))?.used).toBe(6);
        expect(await store.reserveBudget('run-1', 4)).toBe(true);
        expect(await store.reserveBudget('run-1', 1)).toBe(false);
        expect(await store.reserveBudget('run-1', 0)).toBe(true);
        expect(await store.getRun('run-1')).toEqual({ ...run, used: 10 });
      });

      it('never lets parallel reservations exceed the budget together', async () => {
        // Prepare: 60 workers ask for 1..4 removals each (150 in all) from a budget of 97
        await store.createRun({
          runId: 'run-1',
          trigger: 'schedule',
          startedAt: new Date(START),
          budget: 97,
        });
        const asks = Array.from({ length: 60 }, (_, index) => (index % 4) + 1);

        // Act
        const granted = await Promise.all(asks.map((count) => store.reserveBudget('run-1', count)));

        // Assess: what was granted is exactly what is used, within the budget, and the rest did not fit
        const grantedTotal = asks.reduce((sum, count, index) => sum + (granted[index] ? count : 0), 0);
        const { used } = (await store.getRun('run-1')) ?? { used: -1 };
        expect(used).toBe(grantedTotal);
        expect(used).toBeLessThanOrEqual(97);
        const smallestRefused = Math.min(...asks.filter((_, index) => !granted[index]));
        expect(used + smallestRefused).toBeGreaterThan(97);
      });

      it('counts without refusing for a run without a budget', async () => {
        // Prepare
        await store.createRun({ runId: 'run-1', trigger: 'push', startedAt: new Date(START) });

        // Act
        const granted = await Promise.all([
          store.reserveBudget('run-1', 400),
          store.reserveBudget('run-1', 600),
        ]);

        // Assess
        expect(granted).toEqual([true, true]);
        expect(await store.getRun('run-1')).toEqual({
          runId: 'run-1',
          trigger: 'push',
          startedAt: new Date(START),
          used: 1000,
        });
      });

      it('refuses an unknown run, a second run with the same id, and counts that are not whole', async () => {
        // Prepare
        await store.createRun({ runId: 'run-1', trigger: 'cli', startedAt: new Date(START), budget: 5 });

        // Act & Assess
        await expect(store.reserveBudget('run-unknown', 1)).rejects.toBeInstanceOf(LedgerRunNotFoundError);
        await expect(
          store.createRun({ runId: 'run-1', trigger: 'cli', startedAt: new Date(START), budget: 500 }),
        ).rejects.toBeInstanceOf(LedgerRunExistsError);
        await expect(store.reserveBudget('run-1', -1)).rejects.toBeInstanceOf(LedgerInputError);
        await expect(store.reserveBudget('run-1', 1.5)).rejects.toBeInstanceOf(LedgerInputError);
        expect((await store.getRun('run-1'))?.budget).toBe(5);
        expect(await store.getRun('run-unknown')).toBeUndefined();
      });
    });

    describe('Method: archiveRemoval', () => {
      it('keeps the exact body bytes, lists a run by repository and digest, and finds the newest archive of a tag', async () => {
        // Prepare
        const body = Uint8Array.from({ length: 4096 }, (_, index) => (index * 31 + (index >> 8)) % 256);
        const first = removal({
          runId: 'run-1',
          digest: digestOf('old'),
          tags: ['main', 'main-1a2b3c4'],
          body,
        });
        const second = removal({
          runId: 'run-2',
          digest: digestOf('newer'),
          tags: ['main'],
          removedAt: new Date(Date.parse(START) + DAY_MS),
        });
        const untagged = removal({
          runId: 'run-1',
          repository: 'apps/api',
          digest: digestOf('untagged'),
          tags: [],
        });

        // Act
        const archived = await store.archiveRemoval(first);
        await store.archiveRemoval(second);
        await store.archiveRemoval(untagged);

        // Assess
        expect(archived.expiresAt).toEqual(new Date(Date.parse(START) + ARCHIVE_RETENTION_MS));
        const listed = await store.listRemovals('run-1');
        expect(listed.map((entry) => `${entry.repository}@${entry.digest}`)).toEqual([
          `apps/api@${digestOf('untagged')}`,
          `${REPOSITORY}@${digestOf('old')}`,
        ]);
        const roundTripped = listed[1];
        expect(roundTripped).toEqual({ ...first, expiresAt: archived.expiresAt });
        expect(Buffer.from(roundTripped?.body ?? []).equals(Buffer.from(body))).toBe(true);
        expect((await store.latestRemovalOfTag(REPOSITORY, 'main'))?.digest).toBe(digestOf('newer'));
        expect((await store.latestRemovalOfTag(REPOSITORY, 'main-1a2b3c4'))?.digest).toBe(digestOf('old'));
        expect(await store.latestRemovalOfTag(REPOSITORY, 'mai')).toBeUndefined();
        expect(await store.latestRemovalOfTag('apps/api', 'main')).toBeUndefined();
      });

      it('drops archives once they expire (30 days by default)', async () => {
        // Prepare
        await store.archiveRemoval(removal({ tags: ['v1'] }));

        // Act & Assess: still there the day before
        clock.advance(ARCHIVE_RETENTION_MS - 1000);
        expect(await store.listRemovals('run-1')).toHaveLength(1);
        expect(await store.latestRemovalOfTag(REPOSITORY, 'v1')).toBeDefined();

        // Act & Assess: gone once expired
        clock.advance(1000);
        expect(await store.listRemovals('run-1')).toEqual([]);
        expect(await store.latestRemovalOfTag(REPOSITORY, 'v1')).toBeUndefined();
      });

      it('keeps archives for the retention it is configured with', async () => {
        // Prepare
        await store.close();
        await open({ archiveRetentionMs: DAY_MS });
        const archived = await store.archiveRemoval(removal());

        // Act
        clock.advance(DAY_MS);

        // Assess
        expect(archived.expiresAt).toEqual(new Date(Date.parse(START) + DAY_MS));
        expect(await store.listRemovals('run-1')).toEqual([]);
      });

      it('refuses a removal without a body or with a malformed digest', async () => {
        // Act & Assess
        await expect(store.archiveRemoval(removal({ body: new Uint8Array() }))).rejects.toBeInstanceOf(
          LedgerInputError,
        );
        await expect(
          store.archiveRemoval(removal({ digest: 'sha256:nope' as Digest })),
        ).rejects.toBeInstanceOf(LedgerInputError);
        expect(await store.listRemovals('run-1')).toEqual([]);
      });
    });
  });
}
