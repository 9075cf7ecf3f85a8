import pMap from 'p-map';
import type { Inventory, Plan, RepositoryInventory, TagRecord } from '../domain';
import type { LedgerEvent, LedgerStore } from '../ledger';

/**
 * The inventory with the ledger's times on every tag: `pushedAt`, the last push of the tag as
 * the ledger saw it when that push named the digest the tag has now (else the digest's own last
 * push: the tag was re-pointed at a digest pushed before), and `pulledAt`, the digest's last
 * client pull. Two ledger reads per repository (its tags, then its tagged digests).
 */
export async function withLedgerTimes(
  inventory: Inventory,
  ledger: LedgerStore,
  concurrency: number,
): Promise<Inventory> {
  const repositories = await pMap(
    inventory.repositories,
    (repository) => repositoryWithTimes(repository, ledger),
    { concurrency },
  );
  return { ...inventory, repositories };
}

async function repositoryWithTimes(
  repository: RepositoryInventory,
  ledger: LedgerStore,
): Promise<RepositoryInventory> {
  if (repository.tags.length === 0) return repository;
  const digests = [...new Set(repository.tags.map((record) => record.digest))];
  const [tags, manifests] = await Promise.all([
    ledger.listTags(repository.name),
    ledger.getManifests(repository.name, digests),
  ]);
  const lastPush = new Map(tags.map((tag) => [tag.tag, tag]));
  return {
    ...repository,
    tags: repository.tags.map((record): TagRecord => {
      const pushed = lastPush.get(record.tag);
      const manifest = manifests.get(record.digest);
      const pushedAt = pushed?.digest === record.digest ? pushed.pushedAt : manifest?.lastPushedAt;
      const pulledAt = manifest?.lastPulledAt;
      return {
        ...record,
        ...(pushedAt && { pushedAt }),
        ...(pulledAt && { pulledAt }),
      };
    }),
  };
}

/**
 * Records a sweep's removals in the ledger as delete events, so that a ledger fed by no
 * notifications (a CLI sweep) still knows which tags and manifests went. Event ids are derived
 * from the plan's time and the removal: recording the same sweep twice changes nothing. Returns
 * how many events were written.
 */
export async function recordRemovals(ledger: LedgerStore, plan: Plan, now: Date): Promise<number> {
  const events: LedgerEvent[] = [];
  const run = plan.generatedAt;
  const timestamp = now;
  for (const repository of plan.repositories) {
    for (const tag of repository.tags) {
      // A digest delete took the manifest and its tags: one event per tag, each naming the
      // digest, so that the history of every tag shows it. An untag (or a dangling tag cleared)
      // took the tag only.
      const digestGone = tag.result === 'deleted' && !tag.dangling;
      if (!digestGone && tag.result !== 'untagged' && !(tag.result === 'deleted' && tag.dangling)) continue;
      events.push({
        id: `regsweep:${run}:${repository.name}:${tag.tag}`,
        action: 'delete',
        repository: repository.name,
        tag: tag.tag,
        ...(digestGone && { digest: tag.digest }),
        timestamp,
      });
    }
  }
  if (events.length === 0) return 0;
  const result = await ledger.recordEvents(events);
  return result.recorded;
}
