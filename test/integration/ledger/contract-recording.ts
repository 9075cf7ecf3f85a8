import type { Digest } from '../../../lambda/domain';
import {
  LedgerInputError,
  MAX_FACTS_BODY_BYTES,
  PULL_RECORD_INTERVAL_MS,
  type LedgerEvent,
} from '../../../lambda/ledger';
import { digestOf, event, MINUTE_MS, OCI_INDEX, OCI_MANIFEST, removal, REPOSITORY, START } from './fixtures';
import type { ContractContext } from './contract';

/** The contract's first part: events, facts, manifests, tags and history. */
export function describeRecordingContract(t: ContractContext): void {
  describe('Method: recordEvents', () => {
    it('writes the tag and the manifest push times for a tagged push, the manifest only for a push by digest', async () => {
      // Act
      const result = await t.store.recordEvents([
        event('push', { tag: 'latest', size: 1234, at: 0 }),
        event('push', { digest: digestOf('two'), at: MINUTE_MS }),
      ]);

      // Assess
      expect(result).toEqual({ recorded: 2, duplicates: 0, throttled: 0, ignored: 0 });
      expect(await t.store.listTags(REPOSITORY)).toEqual([
        { repository: REPOSITORY, tag: 'latest', digest: digestOf('one'), pushedAt: new Date(START) },
      ]);
      const manifests = await t.store.getManifests(REPOSITORY, [digestOf('one'), digestOf('two')]);
      expect(manifests.get(digestOf('one'))).toMatchObject({
        mediaType: OCI_MANIFEST,
        size: 1234,
        firstPushedAt: new Date(START),
        lastPushedAt: new Date(START),
      });
      expect(manifests.get(digestOf('two'))?.lastPushedAt).toEqual(new Date(Date.parse(START) + MINUTE_MS));
      expect(await t.store.getTag(REPOSITORY, 'missing')).toBeUndefined();
    });

    it('records a retried notification once, in the same call and in a later one', async () => {
      // Prepare
      const push = event('push', { tag: 'latest' });

      // Act
      const first = await t.store.recordEvents([push, push]);
      const retry = await t.store.recordEvents([push]);

      // Assess
      expect(first).toEqual({ recorded: 1, duplicates: 1, throttled: 0, ignored: 0 });
      expect(retry).toEqual({ recorded: 0, duplicates: 1, throttled: 0, ignored: 0 });
      expect(await t.store.history({ repository: REPOSITORY })).toHaveLength(1);
    });

    it('keeps the newest push of a tag and widens first/last push times, whatever the arrival order', async () => {
      // Act: the later push arrives first
      await t.store.recordEvents([
        event('push', { tag: 'latest', digest: digestOf('new'), at: 10 * MINUTE_MS }),
      ]);
      await t.store.recordEvents([event('push', { tag: 'latest', digest: digestOf('old'), at: 0 })]);
      await t.store.recordEvents([
        event('push', { digest: digestOf('new'), at: 20 * MINUTE_MS }),
        event('push', { digest: digestOf('new'), at: 5 * MINUTE_MS }),
      ]);

      // Assess
      expect((await t.store.getTag(REPOSITORY, 'latest'))?.digest).toBe(digestOf('new'));
      const manifest = (await t.store.getManifests(REPOSITORY, [digestOf('new')])).get(digestOf('new'));
      expect(manifest?.firstPushedAt).toEqual(new Date(Date.parse(START) + 5 * MINUTE_MS));
      expect(manifest?.lastPushedAt).toEqual(new Date(Date.parse(START) + 20 * MINUTE_MS));
    });

    it("ignores pulls by regsweep's own agent and by ignorePullsFrom agents, and records the others", async () => {
      // Prepare
      const ignorePullsFrom = [/^Trivy\//, /^aws-inspector/];

      // Act
      const result = await t.store.recordEvents(
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
      const manifests = await t.store.getManifests(
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
        (await t.store.getManifests(REPOSITORY, [digestOf('one')])).get(digestOf('one'))?.lastPulledAt;

      // Act & Assess: the first pull is written, pulls within the hour are not
      expect(await t.store.recordEvents([pull(0)])).toMatchObject({ recorded: 1, throttled: 0 });
      expect(
        await t.store.recordEvents([pull(MINUTE_MS), pull(PULL_RECORD_INTERVAL_MS - 1), pull(0)]),
      ).toMatchObject({ recorded: 0, throttled: 3 });
      expect(await pulledAt()).toEqual(new Date(START));

      // Act & Assess: an hour after the recorded pull, the next one is written; other digests are apart
      expect(
        await t.store.recordEvents([
          pull(PULL_RECORD_INTERVAL_MS),
          pull(PULL_RECORD_INTERVAL_MS, digestOf('two')),
        ]),
      ).toMatchObject({ recorded: 2, throttled: 0 });
      expect(await pulledAt()).toEqual(new Date(Date.parse(START) + PULL_RECORD_INTERVAL_MS));
      const pulls = await t.store.history({ repository: REPOSITORY, digest: digestOf('one') });
      expect(pulls.map((entry) => entry.kind)).toEqual(['pull', 'pull']);
    });

    it('ignores blob events, actions it does not know and events without a digest', async () => {
      // Act
      const result = await t.store.recordEvents([
        event('push', { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }),
        event('push', { digest: undefined, tag: 'latest' }),
        event('pull', { digest: 'not-a-digest' as Digest }),
        { ...event('push'), action: 'mount' as LedgerEvent['action'] },
        event('push', { repository: '' }),
      ]);

      // Assess
      expect(result).toEqual({ recorded: 0, duplicates: 0, throttled: 0, ignored: 5 });
      expect(await t.store.listManifests(REPOSITORY)).toEqual([]);
    });

    it('marks a deleted digest gone with its tags, deletes a tag alone, and a later push brings the manifest back', async () => {
      // Prepare
      await t.store.recordEvents([
        event('push', { tag: 'a', digest: digestOf('one'), at: 0 }),
        event('push', { tag: 'b', digest: digestOf('one'), at: 0 }),
        event('push', { tag: 'c', digest: digestOf('two'), at: 0 }),
        event('push', { tag: 'd', digest: digestOf('two'), at: 0 }),
      ]);

      // Act
      await t.store.recordEvents([
        event('delete', { digest: digestOf('one'), tag: 'a', at: MINUTE_MS }),
        event('delete', { digest: undefined, tag: 'c', at: MINUTE_MS }),
      ]);

      // Assess
      expect((await t.store.listTags(REPOSITORY)).map((tag) => tag.tag)).toEqual(['d']);
      expect((await t.store.listManifests(REPOSITORY)).map((manifest) => manifest.digest)).toEqual([
        digestOf('two'),
      ]);
      const gone = (await t.store.getManifests(REPOSITORY, [digestOf('one')])).get(digestOf('one'));
      expect(gone?.goneAt).toEqual(new Date(Date.parse(START) + MINUTE_MS));

      // Act: pushed again
      await t.store.recordEvents([event('push', { tag: 'a', digest: digestOf('one'), at: 2 * MINUTE_MS })]);

      // Assess
      const back = (await t.store.getManifests(REPOSITORY, [digestOf('one')])).get(digestOf('one'));
      expect(back?.goneAt).toBeUndefined();
      expect((await t.store.listManifests(REPOSITORY)).map((manifest) => manifest.digest).sort()).toEqual(
        [digestOf('one'), digestOf('two')].sort(),
      );
    });

    it('does not let a delete older than the tag push remove the tag', async () => {
      // Prepare
      await t.store.recordEvents([
        event('push', { tag: 'latest', digest: digestOf('one'), at: 10 * MINUTE_MS }),
      ]);

      // Act
      await t.store.recordEvents([event('delete', { digest: digestOf('one'), at: MINUTE_MS })]);

      // Assess
      expect((await t.store.listTags(REPOSITORY)).map((tag) => tag.tag)).toEqual(['latest']);
      expect((await t.store.listManifests(REPOSITORY)).map((manifest) => manifest.digest)).toEqual([
        digestOf('one'),
      ]);
    });
  });

  describe('Method: putFacts', () => {
    it('stores the facts next to the push and pull times, which it leaves as they are', async () => {
      // Prepare
      await t.store.recordEvents([
        event('push', { digest: digestOf('index'), mediaType: OCI_INDEX, tag: 'v1', at: 0 }),
        event('pull', { digest: digestOf('index'), userAgent: 'containerd/2.0', at: MINUTE_MS }),
      ]);
      t.clock.advance(5 * MINUTE_MS);

      // Act
      await t.store.putFacts(REPOSITORY, [
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
      const manifests = await t.store.getManifests(REPOSITORY, ['index', 'amd64', 'signature'].map(digestOf));
      expect(manifests.get(digestOf('index'))).toEqual({
        repository: REPOSITORY,
        digest: digestOf('index'),
        mediaType: OCI_INDEX,
        size: 743,
        created: new Date('2026-11-01T10:00:00Z'),
        children: [digestOf('amd64'), digestOf('arm64')],
        factsRecordedAt: t.clock.now(),
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
        factsRecordedAt: t.clock.now(),
      });
      expect(manifests.get(digestOf('signature'))?.subject).toBe(digestOf('index'));
    });

    it('refuses a malformed digest before writing anything', async () => {
      // Act & Assess
      await expect(
        t.store.putFacts(REPOSITORY, [
          { digest: digestOf('ok'), mediaType: OCI_MANIFEST, size: 1 },
          { digest: 'sha256:short' as Digest, mediaType: OCI_MANIFEST, size: 1 },
        ]),
      ).rejects.toBeInstanceOf(LedgerInputError);
      expect(await t.store.listManifests(REPOSITORY)).toEqual([]);
    });

    it('keeps a body up to MAX_FACTS_BODY_BYTES byte for byte, drops a bigger one, and a rewrite without one clears it', async () => {
      // Prepare
      const small = new Uint8Array(Buffer.from('{"schemaVersion":2,"layers":[]}\n'));
      const limit = new Uint8Array(MAX_FACTS_BODY_BYTES).fill(0x20);
      const big = new Uint8Array(MAX_FACTS_BODY_BYTES + 1).fill(0x20);

      // Act
      await t.store.putFacts(REPOSITORY, [
        { digest: digestOf('small'), mediaType: OCI_MANIFEST, size: small.length, body: small },
        { digest: digestOf('limit'), mediaType: OCI_MANIFEST, size: limit.length, body: limit },
        { digest: digestOf('big'), mediaType: OCI_MANIFEST, size: big.length, body: big },
        { digest: digestOf('none'), mediaType: OCI_MANIFEST, size: 10 },
      ]);
      const first = await t.store.getManifests(REPOSITORY, ['small', 'limit', 'big', 'none'].map(digestOf));
      await t.store.putFacts(REPOSITORY, [
        { digest: digestOf('small'), mediaType: OCI_MANIFEST, size: small.length },
      ]);
      const rewritten = await t.store.getManifests(REPOSITORY, [digestOf('small')]);

      // Assess
      expect(Buffer.from(first.get(digestOf('small'))?.body ?? []).equals(Buffer.from(small))).toBe(true);
      expect(first.get(digestOf('small'))?.body).toBeInstanceOf(Uint8Array);
      expect(first.get(digestOf('limit'))?.body?.length).toBe(MAX_FACTS_BODY_BYTES);
      expect(first.get(digestOf('big'))?.body).toBeUndefined();
      expect(first.get(digestOf('big'))?.size).toBe(big.length);
      expect(first.get(digestOf('none'))?.body).toBeUndefined();
      expect(rewritten.get(digestOf('small'))?.body).toBeUndefined();
    });
  });

  describe('Method: getManifests', () => {
    it('looks up many digests in one call (more than one DynamoDB batch), leaving unknown ones out', async () => {
      // Prepare
      const known = Array.from({ length: 230 }, (_, index) => digestOf(`known-${index}`));
      const unknown = Array.from({ length: 20 }, (_, index) => digestOf(`unknown-${index}`));
      await t.store.putFacts(
        REPOSITORY,
        known.map((digest, index) => ({ digest, mediaType: OCI_MANIFEST, size: index + 1 })),
      );
      await t.store.putFacts('apps/other', [
        { digest: unknown[0] as Digest, mediaType: OCI_MANIFEST, size: 9 },
      ]);

      // Act
      const found = await t.store.getManifests(REPOSITORY, [...unknown, ...known, known[0] as Digest]);

      // Assess
      expect(found.size).toBe(230);
      known.forEach((digest, index) => expect(found.get(digest)?.size).toBe(index + 1));
      expect(unknown.some((digest) => found.has(digest))).toBe(false);
      expect(await t.store.getManifests(REPOSITORY, [])).toEqual(new Map());
    });
  });

  describe('Method: listManifests', () => {
    it("lists one repository's manifests, from events and facts alike", async () => {
      // Prepare
      await t.store.recordEvents([
        event('push', { digest: digestOf('pushed') }),
        event('push', { repository: 'apps/web-admin', digest: digestOf('elsewhere') }),
      ]);
      await t.store.putFacts(REPOSITORY, [{ digest: digestOf('read'), mediaType: OCI_MANIFEST, size: 3 }]);

      // Act
      const manifests = await t.store.listManifests(REPOSITORY);

      // Assess
      expect(manifests.map((manifest) => manifest.digest).sort()).toEqual(
        [digestOf('pushed'), digestOf('read')].sort(),
      );
    });
  });

  describe('Method: history', () => {
    it('shows pushes, pulls, deletes and archives of a repository, tag or digest, newest first', async () => {
      // Prepare
      await t.store.recordEvents([
        event('push', { id: 'push-1', tag: 'v1', digest: digestOf('one'), at: 0 }),
        event('pull', { id: 'pull-1', digest: digestOf('one'), userAgent: 'docker/27', at: 2 * MINUTE_MS }),
        event('push', { id: 'push-2', tag: 'v2', digest: digestOf('two'), at: MINUTE_MS }),
      ]);
      await t.store.createRun({ runId: 'run-1', trigger: 'cli', startedAt: new Date(START) });
      await t.store.archiveRemoval(
        removal({
          digest: digestOf('one'),
          tags: ['v1'],
          removedAt: new Date(Date.parse(START) + 3 * MINUTE_MS),
        }),
      );
      await t.store.recordEvents([
        event('delete', { id: 'delete-1', digest: digestOf('one'), tag: 'v1', at: 4 * MINUTE_MS }),
      ]);

      // Act
      const all = await t.store.history({ repository: REPOSITORY });
      const ofTag = await t.store.history({ repository: REPOSITORY, tag: 'v1' });
      const ofDigest = await t.store.history({ repository: REPOSITORY, digest: digestOf('two') });
      const latest = await t.store.history({ repository: REPOSITORY }, { limit: 2 });

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
      expect(await t.store.history({ repository: 'apps/unknown' })).toEqual([]);
    });
  });
}
