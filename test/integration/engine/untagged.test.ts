import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

import type { Digest } from '../../../lambda/domain';
import { sweepRun } from '../../../lambda/engine';
import { registryEventsOf } from '../../../lambda/events';
import { SqliteLedgerStore } from '../../../lambda/ledger';
import { compilePolicy } from '../../../lambda/policy';
import { RegistryClient } from '../../../lambda/registry';
import { startNotificationRelay, type NotificationRelay } from '../../helpers/notification-relay';
import { makeTempDir } from '../../../tools/exit-cleanup';
import { headDigestRaw, pushImage, type PushedImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

const REPOSITORY = 'apps/web';
/** Every tag stays; only manifests no tag reaches go. */
const POLICY = compilePolicy({
  rules: [{ name: 'all', keep: 100 }],
  untagged: [{ olderThan: '0s' }],
});

describe('Feature: untagged cleanup (the ledger knows every manifest the registry was notified about)', () => {
  let registry: RegistryProcess;
  let relay: NotificationRelay;

  beforeEach(async () => {
    relay = await startNotificationRelay();
    registry = await startRegistry({
      notifications: [{ name: 'regsweep', url: relay.url, backoff: '100ms' }],
    });
  });

  afterEach(async () => {
    await registry.stop();
    await relay.stop();
  });

  /** Records every notification the registry posted so far, as `serve` or the webhook would. */
  async function recordNotifications(ledger: SqliteLedgerStore): Promise<void> {
    // Notifications go out in order: once the sentinel's push is in, every earlier one is too.
    await pushImage(registry.url, REPOSITORY, 'sentinel');
    await relay.pushed(REPOSITORY, 'sentinel');
    for (const post of relay.posts) {
      const { events } = registryEventsOf(post.body, {
        now: new Date(),
        ...(post.headers['content-type'] && { contentType: post.headers['content-type'] }),
      });
      await ledger.recordEvents(events);
    }
  }

  it('removes superseded multi-arch indexes and their platform manifests, nothing a tag reaches, and garbage-collect then frees their blobs', async () => {
    // Prepare: `latest` pushed three times as a multi-arch index (two platforms each).
    const pushes: PushedImage[] = [];
    for (let n = 1; n <= 3; n += 1)
      pushes.push(
        await pushImage(registry.url, REPOSITORY, 'latest', { kind: 'oci-index', seed: `latest-${n}` }),
      );
    const [first, second, third] = pushes as [PushedImage, PushedImage, PushedImage];
    const ledger = new SqliteLedgerStore({ file: join(makeTempDir('regsweep-untagged-'), 'ledger.db') });
    const client = new RegistryClient({ registry: registry.url });
    try {
      await recordNotifications(ledger);

      // Act
      const plan = await sweepRun({ client, policy: POLICY, ledger });

      // Assess: the two superseded indexes and their platform manifests went; the current index
      // and its platforms stay.
      const repository = plan.repositories.find((entry) => entry.name === REPOSITORY);
      const deleted = (repository?.untagged ?? []).filter((entry) => entry.result === 'deleted');
      const superseded = [first, second].flatMap((image) => [image.digest, ...(image.children ?? [])]);
      expect(deleted.map((entry) => entry.digest).sort()).toEqual([...superseded].sort());
      // An index goes before its children.
      for (const image of [first, second])
        for (const child of image.children ?? [])
          expect(deleted.findIndex((entry) => entry.digest === image.digest)).toBeLessThan(
            deleted.findIndex((entry) => entry.digest === child),
          );
      for (const digest of superseded)
        expect(await headDigestRaw(registry.url, REPOSITORY, digest)).toBeUndefined();
      for (const digest of [third.digest, ...(third.children ?? [])])
        expect(await headDigestRaw(registry.url, REPOSITORY, digest)).toBe(digest);
      expect(repository?.reclaimableBytes).toBeGreaterThan(0);
      expect(plan.summary.untagged).toBe(superseded.length);

      // The ledger knows they are gone: a second plan lists none of them.
      const again = await sweepRun({ client, policy: POLICY, ledger, dryRun: true });
      expect(again.repositories.find((entry) => entry.name === REPOSITORY)?.untagged ?? []).toEqual([]);

      // garbage-collect (without --delete-untagged) frees their blobs; every kept image copies whole.
      // (Nothing writes meanwhile: the test is the registry's only client.)
      const collected = await registry.garbageCollect();
      expect(collected).toMatch(/blob eligible for deletion|deleting blob/i);
      const copy = makeTempDir('regsweep-untagged-copy-');
      execFileSync(
        'skopeo',
        [
          'copy',
          '--all',
          '--src-tls-verify=false',
          `docker://127.0.0.1:${registry.port}/${REPOSITORY}:latest`,
          `dir:${copy}`,
        ],
        { stdio: 'pipe' },
      );
      expect(await headDigestRaw(registry.url, REPOSITORY, 'latest')).toBe(third.digest);
    } finally {
      await client.close();
      await ledger.close();
    }
  });

  it('keeps an untagged manifest a kept tag reaches through an index, at any depth', async () => {
    // Prepare: `latest` twice; then `stable` becomes an index listing the first push's index.
    const first = await pushImage(registry.url, REPOSITORY, 'latest', { kind: 'oci-index', seed: 'one' });
    await pushImage(registry.url, REPOSITORY, 'latest', { kind: 'oci-index', seed: 'two' });
    const ledger = new SqliteLedgerStore({ file: join(makeTempDir('regsweep-untagged-'), 'ledger.db') });
    const client = new RegistryClient({ registry: registry.url });
    try {
      const { pushIndexOf, describeManifest } = await import('../../../tools/artifacts');
      const inner = await describeManifest(registry.url, REPOSITORY, first.digest);
      await pushIndexOf(registry.url, REPOSITORY, 'stable', [inner]);
      await recordNotifications(ledger);

      // Act
      const plan = await sweepRun({ client, policy: POLICY, ledger });

      // Assess: nothing the first index reaches was deleted.
      const deleted = new Set(
        (plan.repositories.find((entry) => entry.name === REPOSITORY)?.untagged ?? [])
          .filter((entry) => entry.result === 'deleted')
          .map((entry) => entry.digest as Digest),
      );
      for (const digest of [first.digest, ...(first.children ?? [])]) {
        expect(deleted.has(digest)).toBe(false);
        expect(await headDigestRaw(registry.url, REPOSITORY, digest)).toBe(digest);
      }
    } finally {
      await client.close();
      await ledger.close();
    }
  });
});
