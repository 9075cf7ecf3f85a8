import { isIndex, type Digest, type RepositoryInventory, type UntaggedManifestPlan } from '../domain';
import { formatAge } from './duration';
import type { CompiledUntagged, Policy } from './policy';

/**
 * What the ledger knows of one manifest of a repository, as plain data (the engine maps the
 * ledger's records to it: the policy layer does not know the ledger).
 */
export interface KnownManifest {
  readonly digest: Digest;
  readonly mediaType?: string;
  /** For an index: what it lists. */
  readonly children?: readonly Digest[];
  /** For a referrer: the manifest it refers to. */
  readonly subject?: Digest;
  /** Bytes of each blob the manifest references (config and layers), by digest. */
  readonly blobSizes?: Readonly<Record<string, number>>;
  /**
   * Whether the manifest itself was read (its children and subject are known, even when absent).
   * A manifest known only from events may be a referrer or an index: it cannot be proved unreachable.
   */
  readonly linksKnown: boolean;
  /** The last time it was pushed or seen tagged; undefined when unknown (never "old"). */
  readonly pushedAt?: Date;
  /** The last client pull by digest; undefined when none was seen. */
  readonly pulledAt?: Date;
}

/** The first `untagged` entry whose repositories globs match `repository`. */
export function untaggedEntryFor(policy: Policy, repository: string): CompiledUntagged | undefined {
  return policy.untagged.find((entry) => entry.matchesRepository(repository));
}

/**
 * Every digest a current tag reaches, at any depth: index children (from the inventory and the
 * ledger), and referrers whose subject is reached (to a fixpoint). `open` lists the reached
 * indexes whose children nobody knows: what they list cannot be proved unreachable.
 */
export function reachableFromTags(
  repository: RepositoryInventory,
  manifests: readonly KnownManifest[],
): { reachable: Set<Digest>; open: Digest[] } {
  const children = new Map<Digest, readonly Digest[]>();
  const indexes = new Set<Digest>();
  for (const manifest of manifests) {
    if (manifest.children) children.set(manifest.digest, manifest.children);
    if (manifest.mediaType !== undefined && isIndex(manifest.mediaType)) indexes.add(manifest.digest);
  }
  for (const tag of repository.tags) {
    if (tag.children) children.set(tag.digest, tag.children);
    if (isIndex(tag.mediaType)) indexes.add(tag.digest);
  }
  for (const index of repository.indexes ?? []) {
    children.set(index.digest, index.children);
    indexes.add(index.digest);
  }
  const referrersOf = new Map<Digest, Digest[]>();
  const refer = (subject: Digest, digest: Digest): void => {
    const list = referrersOf.get(subject) ?? [];
    list.push(digest);
    referrersOf.set(subject, list);
  };
  for (const manifest of manifests) if (manifest.subject) refer(manifest.subject, manifest.digest);
  for (const referrer of repository.referrers ?? []) refer(referrer.subject, referrer.digest);

  const reachable = new Set<Digest>();
  const stack = repository.tags.map((tag) => tag.digest);
  while (stack.length > 0) {
    const digest = stack.pop() as Digest;
    if (reachable.has(digest)) continue;
    reachable.add(digest);
    stack.push(...(children.get(digest) ?? []), ...(referrersOf.get(digest) ?? []));
  }
  const open = [...reachable].filter((digest) => indexes.has(digest) && !children.has(digest)).sort();
  return { reachable, open };
}

/**
 * Decides the repository's untagged manifests: the ledger's manifests no current tag reaches,
 * each with `delete` or `keep` and a reason, in removal order (an index before its children, a
 * referrer before its subject). A manifest that a kept untagged one reaches stays with it.
 */
export function planUntagged(
  repository: RepositoryInventory,
  manifests: readonly KnownManifest[],
  entry: CompiledUntagged,
  now: Date,
): UntaggedManifestPlan[] {
  const { reachable, open } = reachableFromTags(repository, manifests);
  const candidates = manifests.filter((manifest) => !reachable.has(manifest.digest));
  const byDigest = new Map(candidates.map((manifest) => [manifest.digest, manifest]));
  const decided = new Map<Digest, UntaggedManifestPlan>();
  for (const manifest of candidates) {
    const [action, reason] = decide(manifest, entry, now, open);
    decided.set(manifest.digest, {
      digest: manifest.digest,
      mediaType: manifest.mediaType ?? '',
      pushedAt: manifest.pushedAt?.toISOString() ?? null,
      pulledAt: manifest.pulledAt?.toISOString() ?? null,
      action,
      reason,
    });
  }
  // What a kept candidate reaches (children, and referrers of it) stays with it.
  const links = (manifest: KnownManifest): Digest[] => [
    ...(manifest.children ?? []),
    ...candidates.filter((other) => other.subject === manifest.digest).map((other) => other.digest),
  ];
  const stack = [...decided.values()].filter((plan) => plan.action === 'keep').map((plan) => plan.digest);
  while (stack.length > 0) {
    const keeper = stack.pop() as Digest;
    for (const digest of links(byDigest.get(keeper) as KnownManifest)) {
      const plan = decided.get(digest);
      if (!plan || plan.action === 'keep') continue;
      plan.action = 'keep';
      plan.reason = `reached by the untagged ${keeper}, which stays`;
      stack.push(digest);
    }
  }
  return removalOrder([...decided.values()], byDigest);
}

function decide(
  manifest: KnownManifest,
  entry: CompiledUntagged,
  now: Date,
  open: readonly Digest[],
): ['keep' | 'delete', string] {
  if (open.length > 0)
    return ['keep', `cannot prove unreachable: the children of the reached index ${open[0]} are unknown`];
  if (!manifest.linksKnown)
    return ['keep', 'cannot prove unreachable: its manifest was not read (children and subject unknown)'];
  if (!manifest.pushedAt) return ['keep', 'no push time known: an unknown age is never old'];
  const ageMs = now.getTime() - manifest.pushedAt.getTime();
  const olderThan = entry.document.olderThan;
  if (ageMs < entry.olderThanMs)
    return ['keep', `no tag reaches it, last pushed ${formatAge(ageMs)} ago: within olderThan=${olderThan}`];
  const within = entry.keepPulledWithinMs;
  if (within !== undefined && manifest.pulledAt && now.getTime() - manifest.pulledAt.getTime() < within)
    return [
      'keep',
      `pulled ${formatAge(now.getTime() - manifest.pulledAt.getTime())} ago: within keepPulledWithin`,
    ];
  return ['delete', `no tag reaches it; last pushed ${formatAge(ageMs)} ago (olderThan=${olderThan})`];
}

/** Parents (indexes, referrers) before what they link to; otherwise by digest. */
function removalOrder(
  plans: UntaggedManifestPlan[],
  byDigest: ReadonlyMap<Digest, KnownManifest>,
): UntaggedManifestPlan[] {
  const sorted = [...plans].sort((a, b) => (a.digest < b.digest ? -1 : 1));
  const parents = new Map<Digest, Digest[]>();
  for (const manifest of byDigest.values()) {
    for (const child of manifest.children ?? [])
      parents.set(child, [...(parents.get(child) ?? []), manifest.digest]);
    if (manifest.subject)
      parents.set(manifest.subject, [...(parents.get(manifest.subject) ?? []), manifest.digest]);
  }
  const placed = new Set<Digest>();
  const visiting = new Set<Digest>();
  const ordered: UntaggedManifestPlan[] = [];
  const byPlan = new Map(sorted.map((plan) => [plan.digest, plan]));
  const place = (plan: UntaggedManifestPlan): void => {
    if (placed.has(plan.digest) || visiting.has(plan.digest)) return;
    visiting.add(plan.digest);
    for (const parent of parents.get(plan.digest) ?? []) {
      const parentPlan = byPlan.get(parent);
      if (parentPlan) place(parentPlan);
    }
    visiting.delete(plan.digest);
    placed.add(plan.digest);
    ordered.push(plan);
  };
  for (const plan of sorted) place(plan);
  return ordered;
}

/**
 * The config and layer bytes referenced only by `removed` manifests among `manifests`: what
 * `garbage-collect` can free in this repository (blobs other repositories link stay).
 */
export function reclaimableBytes(manifests: readonly KnownManifest[], removed: ReadonlySet<Digest>): number {
  const staying = new Set<string>();
  for (const manifest of manifests)
    if (!removed.has(manifest.digest))
      for (const blob of Object.keys(manifest.blobSizes ?? {})) staying.add(blob);
  const freed = new Map<string, number>();
  for (const manifest of manifests) {
    if (!removed.has(manifest.digest)) continue;
    for (const [blob, size] of Object.entries(manifest.blobSizes ?? {}))
      if (!staying.has(blob)) freed.set(blob, size);
  }
  let total = 0;
  for (const size of freed.values()) total += size;
  return total;
}
