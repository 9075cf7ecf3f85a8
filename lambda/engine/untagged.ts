import pMap from 'p-map';
import {
  manifestLinks,
  summarizePlan,
  type Digest,
  type Inventory,
  type Plan,
  type RepositoryPlan,
  type UntaggedManifestPlan,
} from '../domain';
import type { LedgerManifest, LedgerStore, ManifestFacts } from '../ledger';
import { planUntagged, reclaimableBytes, untaggedEntryFor, type KnownManifest, type Policy } from '../policy';
import { isNotFound, type RegistryClient } from '../registry';
import { heldPushHolders, heldPushLabel, type HeldPush } from './held';
import { heldDigests } from './index-graph';
import { errorMessage, isRunFatal, readCurrentTags } from './reads';
import { hasFacts, manifestFacts, writeFacts } from './ledger';
import { notStartedReason } from './outcomes';

/**
 * Untagged cleanup: the ledger knows every manifest the registry was notified about (and those
 * regsweep read); those no current tag reaches, at any depth, go by digest once an `untagged`
 * entry covers their repository (see `planUntagged` for what stays and why).
 */

/**
 * Adds each covered repository's untagged manifests to the plan (`untagged`, in removal order),
 * and `reclaimableBytes`: config and layer bytes that only this plan's removals (tag deletes and
 * untagged deletes) reference in the repository. A manifest the ledger has no facts for is read
 * once (GET by digest; its facts written back); one the registry no longer has is left out.
 * A repository whose untagged manifests cannot be read keeps them all, with a warning.
 */
export async function withUntagged(
  client: RegistryClient,
  ledger: LedgerStore,
  policy: Policy,
  inventory: Inventory,
  plan: Plan,
  now: Date,
  options: { readonly concurrency: number; readonly warn?: (message: string) => void },
): Promise<Plan> {
  if (policy.untagged.length === 0) return plan;
  const inventories = new Map(inventory.repositories.map((repository) => [repository.name, repository]));
  const repositories = await pMap(
    plan.repositories,
    async (repository): Promise<RepositoryPlan> => {
      const entry = untaggedEntryFor(policy, repository.name);
      const read = inventories.get(repository.name);
      if (!entry || !read || repository.error !== undefined) return repository;
      try {
        const manifests = await knownManifests(client, ledger, repository.name, options);
        const untagged = planUntagged(read, manifests, entry, now);
        const removed = new Set<Digest>([
          ...repository.tags.filter((tag) => tag.action === 'delete').map((tag) => tag.digest),
          ...untagged.filter((manifest) => manifest.action === 'delete').map((manifest) => manifest.digest),
        ]);
        return { ...repository, untagged, reclaimableBytes: reclaimableBytes(manifests, removed) };
      } catch (error) {
        if (isRunFatal(error)) throw error;
        options.warn?.(
          `${repository.name}: untagged manifests not planned (all stay): ${errorMessage(error)}`,
        );
        return repository;
      }
    },
    { concurrency: options.concurrency },
  );
  return { ...plan, repositories, summary: summarizePlan(repositories) };
}

/** The ledger's manifests of a repository as the planner takes them, facts read where missing. */
async function knownManifests(
  client: RegistryClient,
  ledger: LedgerStore,
  repository: string,
  options: { readonly concurrency: number; readonly warn?: (message: string) => void },
): Promise<KnownManifest[]> {
  const records = await ledger.listManifests(repository);
  const read = new Map<Digest, LedgerManifest>();
  const fresh: Array<{ facts: ManifestFacts; childIndexes: readonly Digest[] }> = [];
  const gone = new Set<Digest>();
  const unread: LedgerManifest[] = [];
  for (const record of records) if (!hasFacts(record)) unread.push(record);
  await pMap(
    unread,
    async (record) => {
      try {
        const content = await client.getManifest(repository, record.digest);
        const links = manifestLinks(content.manifest);
        const facts = manifestFacts(content, links, undefined);
        fresh.push({ facts, childIndexes: links.childIndexes ?? [] });
        read.set(record.digest, { ...record, ...facts, factsRecordedAt: new Date() });
      } catch (error) {
        // Gone from the registry (a delete the ledger was not told of): nothing to clean.
        if (isNotFound(error)) gone.add(record.digest);
        else throw error;
      }
    },
    { concurrency: options.concurrency },
  );
  if (fresh.length > 0) {
    const known = new Set(records.filter(hasFacts).map((record) => record.digest));
    await writeFacts(ledger, repository, fresh, known).catch((error: unknown) =>
      options.warn?.(`${repository}: the ledger could not keep the facts read: ${errorMessage(error)}`),
    );
  }
  return records
    .filter((record) => !gone.has(record.digest))
    .map((record) => read.get(record.digest) ?? record)
    .map((record): KnownManifest => ({
      digest: record.digest,
      ...(record.mediaType !== undefined && { mediaType: record.mediaType }),
      ...(record.children && { children: record.children }),
      ...(record.subject && { subject: record.subject }),
      ...(record.blobSizes && { blobSizes: record.blobSizes }),
      linksKnown: hasFacts(record),
      ...(record.lastPushedAt && { pushedAt: record.lastPushedAt }),
      ...(record.lastPulledAt && { pulledAt: record.lastPulledAt }),
    }));
}

/** What removing untagged manifests needs beyond the registry. */
export interface UntaggedRemovalOptions {
  readonly concurrency: number;
  /** Called just before each DELETE (after every check); a throw keeps the manifest (`failed`). */
  readonly archive?: (repository: string, manifest: UntaggedManifestPlan) => Promise<void>;
  readonly heldPushes?: Pick<ReadonlyMap<string, readonly HeldPush[]>, 'get'>;
  readonly stopStarting?: () => string | undefined;
  /** The planned indexes' children (the ledger's facts): a child goes only after its parents. */
  readonly children?: ReadonlyMap<Digest, readonly Digest[]>;
  /** Children of the index digests seen while planning (saves re-reading kept indexes). */
  readonly knownChildren?: ReadonlyMap<Digest, readonly Digest[]>;
}

/**
 * Removes a repository's planned untagged manifests, after its tag removals. Its tags are read
 * again first (list + HEAD each): a manifest a current tag (or a pushed tag not linked yet) now
 * reaches at any depth is `skipped-changed`, and so is a manifest an index of this plan lists
 * that was not removed. Then, in plan order (an index before its children), DELETE by
 * digest: 202 or 404 (someone else removed it) counts as done. Returns how many were removed.
 */
export async function removeUntagged(
  client: RegistryClient,
  repository: RepositoryPlan,
  options: UntaggedRemovalOptions,
): Promise<number> {
  const planned = (repository.untagged ?? []).filter((manifest) => manifest.action === 'delete');
  if (planned.length === 0) return 0;
  const name = repository.name;
  const current = await readCurrentTags(client, name, options.concurrency);
  const pushes = (options.heldPushes?.get(name) ?? []).filter(
    (push) => current.get(push.tag)?.digest !== push.digest,
  );
  const held = await heldDigests(
    client,
    name,
    [...current, ...(await heldPushHolders(client, name, pushes, options.concurrency))],
    options.concurrency,
    options.knownChildren,
  );
  for (const push of pushes) if (!held.has(push.digest)) held.set(push.digest, [heldPushLabel(push)]);

  // The planned indexes that list each planned manifest: a child whose parent stays stays too.
  const plannedByDigest = new Map(planned.map((manifest) => [manifest.digest, manifest]));
  const parents = new Map<Digest, Digest[]>();
  for (const manifest of planned)
    for (const child of options.children?.get(manifest.digest) ?? [])
      parents.set(child, [...(parents.get(child) ?? []), manifest.digest]);
  let removed = 0;
  for (const manifest of planned) {
    const stopped = options.stopStarting?.();
    if (stopped) {
      manifest.reason = notStartedReason(manifest.reason, stopped);
      continue;
    }
    const holder = held.get(manifest.digest)?.[0];
    const keptParent = (parents.get(manifest.digest) ?? []).find(
      (parent) => plannedByDigest.get(parent)?.result !== 'deleted',
    );
    if (holder !== undefined || keptParent !== undefined) {
      manifest.result = 'skipped-changed';
      manifest.reason = `${manifest.reason}; skipped: ${
        holder !== undefined ? `'${holder}' now reaches it` : `its index ${keptParent} stays`
      } since planning`;
      continue;
    }
    try {
      await options.archive?.(name, manifest);
    } catch (error) {
      manifest.result = 'failed';
      manifest.error = `not removed: archiving the manifest first failed: ${errorMessage(error)}`;
      continue;
    }
    try {
      await client.deleteManifest(name, manifest.digest);
      manifest.result = 'deleted';
      removed += 1;
    } catch (error) {
      if (isRunFatal(error)) throw error;
      manifest.result = 'failed';
      manifest.error = errorMessage(error);
    }
  }
  return removed;
}
