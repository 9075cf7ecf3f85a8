import pMap from 'p-map';
import {
  isDigest,
  isIndex,
  type Digest,
  type Inventory,
  type ManifestLinks,
  type Plan,
  type RepositoryInventory,
  type TagRecord,
} from '../domain';
import type { LedgerEvent, LedgerManifest, LedgerStore, ManifestFacts } from '../ledger';
import type { ManifestContent } from '../registry';
import { MAX_INDEX_NESTING } from './index-graph';

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

/*
 * The facts cache. What regsweep reads of a manifest (media type, build time, an index's children,
 * a referrer's subject) is written to the ledger, keyed by repository and digest; a later plan
 * whose HEAD of a tag names a digest the ledger has facts for reads neither the manifest nor its
 * config. Caching is safe because a digest is the hash of the manifest's bytes: a manifest
 * deleted and pushed again under the same digest is the same bytes, with the same facts. What the
 * cache does not replace: the HEAD of every tag (the plan still sees where each tag points now)
 * and the executor's re-verification before each removal (unchanged).
 */

/** A ledger record carries facts when regsweep wrote them (`putFacts`); events alone name none. */
export function hasFacts(record: LedgerManifest | undefined): record is LedgerManifest {
  return record?.factsRecordedAt !== undefined && record.mediaType !== undefined;
}

/**
 * The ledger's records of `digests` in `repository` and of the inner indexes their facts list,
 * level by level (one `getManifests` per level: one call for a repository without indexes).
 */
export async function lookUpFacts(
  ledger: LedgerStore,
  repository: string,
  digests: readonly Digest[],
): Promise<Map<Digest, LedgerManifest>> {
  const records = new Map<Digest, LedgerManifest>();
  let pending = [...new Set(digests)];
  for (let depth = 0; depth <= MAX_INDEX_NESTING && pending.length > 0; depth += 1) {
    const found = await ledger.getManifests(repository, pending);
    for (const digest of pending) {
      const record = found.get(digest);
      if (record) records.set(digest, record);
    }
    const next = new Set<Digest>();
    for (const digest of pending) {
      const record = found.get(digest);
      if (!hasFacts(record) || !isIndex(record.mediaType)) continue;
      for (const child of record.children ?? []) if (!records.has(child)) next.add(child);
    }
    for (const digest of pending) next.delete(digest);
    pending = [...next];
  }
  return records;
}

/**
 * What a record with facts links to. An index's children that are indexes are those the ledger
 * knows as indexes: facts of an index are only written once every index it lists has facts (see
 * {@link writeFacts}), and a child the ledger holds no facts for, but knows from a push as an
 * index, is listed too (then read by the graph as usual).
 */
export function linksOf(record: LedgerManifest, records: ReadonlyMap<Digest, LedgerManifest>): ManifestLinks {
  const links: { children?: Digest[]; childIndexes?: Digest[]; subject?: Digest } = {};
  if (record.subject) links.subject = record.subject;
  if (isIndex(record.mediaType)) {
    links.children = [...(record.children ?? [])];
    links.childIndexes = links.children.filter((child) => isIndex(records.get(child)?.mediaType));
  }
  return links;
}

/** The facts of a manifest read from the registry, with its build time as read (absent: unknown). */
export function manifestFacts(
  content: ManifestContent,
  links: ManifestLinks,
  created: Date | undefined,
): ManifestFacts {
  const config = descriptorOf(content.json.config);
  const blobSizes: Record<string, number> = {};
  for (const blob of [
    config,
    ...(Array.isArray(content.json.layers) ? content.json.layers : []).map(descriptorOf),
  ])
    if (blob) blobSizes[blob.digest] = blob.size;
  return {
    digest: content.digest,
    mediaType: content.mediaType,
    size: content.bytes.length,
    ...(created && { created }),
    ...(links.children && { children: links.children }),
    ...(links.subject && { subject: links.subject }),
    ...(config && { configDigest: config.digest }),
    ...(Object.keys(blobSizes).length > 0 && { blobSizes }),
    body: content.bytes,
  };
}

function descriptorOf(value: unknown): { digest: Digest; size: number } | undefined {
  const { digest, size } = (value ?? {}) as { digest?: unknown; size?: unknown };
  return isDigest(digest) && typeof size === 'number' && Number.isSafeInteger(size) && size >= 0
    ? { digest, size }
    : undefined;
}

/**
 * Writes the facts read while planning, children before the indexes that list them (one
 * `putFacts` per level), so that a later plan that finds an index's facts finds its inner
 * indexes' too. An index some of whose inner indexes have no facts (gone while it was read,
 * or nested past {@link MAX_INDEX_NESTING}) is not written: the next plan reads it again.
 * `childIndexes` says, per index written, which of its children its descriptors call indexes;
 * `known` are the digests the ledger already has facts for. Returns how many were written.
 */
export async function writeFacts(
  ledger: LedgerStore,
  repository: string,
  facts: ReadonlyArray<{ readonly facts: ManifestFacts; readonly childIndexes: readonly Digest[] }>,
  known: ReadonlySet<Digest>,
): Promise<number> {
  const written = new Set<Digest>(known);
  let left = [...new Map(facts.map((entry) => [entry.facts.digest, entry])).values()].filter(
    (entry) => !known.has(entry.facts.digest),
  );
  let count = 0;
  while (left.length > 0) {
    const ready = left.filter((entry) => entry.childIndexes.every((child) => written.has(child)));
    if (ready.length === 0) break; // the rest wait on inner indexes without facts
    await ledger.putFacts(
      repository,
      ready.map((entry) => entry.facts),
    );
    for (const entry of ready) written.add(entry.facts.digest);
    count += ready.length;
    left = left.filter((entry) => !written.has(entry.facts.digest));
  }
  return count;
}
