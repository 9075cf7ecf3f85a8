import pMap from 'p-map';
import type { Digest, PlannedTag, RepositoryPlan } from '../domain';
import { referrerSubject } from '../policy';
import type { RegistryClient, ResolvedManifest } from '../registry';
import { heldPushHolders, heldPushLabel, type HeldPush } from './held';
import { heldDigests } from './index-graph';
import { listTags } from './reads';
import { skipChanged } from './outcomes';

/** A removal to carry out: one digest delete (covering all its planned tags) or one untag. */
export type Removal =
  | { kind: 'delete'; repository: string; digest: Digest; tags: PlannedTag[] }
  | { kind: 'untag'; repository: string; tag: PlannedTag };

/** What re-verifying a repository needs to know beyond the registry. */
export interface VerifyOptions {
  readonly concurrency: number;
  readonly knownChildren?: ReadonlyMap<string, ReadonlyMap<Digest, readonly Digest[]>>;
  readonly heldPushes?: Pick<ReadonlyMap<string, readonly HeldPush[]>, 'get'>;
}

/**
 * Checks an untag's tag one last time: an untag writes to the tag itself, so a tag pushed again
 * since the repository was re-read would otherwise be replaced and removed.
 */
export async function untagMoved(
  client: RegistryClient,
  removal: Extract<Removal, { kind: 'untag' }>,
): Promise<boolean> {
  const now = await client.resolve(removal.repository, removal.tag.tag);
  if (now?.digest === removal.tag.digest) return false;
  skipChanged(removal.tag, now ? `the tag now points at ${now.digest}` : 'the tag no longer exists');
  return true;
}

/**
 * Re-reads one repository's tags and digests, marks what moved as `skipped-changed`, and returns
 * the removals that are still safe.
 */
export async function verifyRepository(
  client: RegistryClient,
  repository: RepositoryPlan,
  options: VerifyOptions,
): Promise<Removal[]> {
  const name = repository.name;
  const current = await readHolders(client, repository, options.concurrency);

  const planned = new Map(repository.tags.map((tag) => [tag.tag, tag]));
  const isPlannedRemoval = (tag: string, digest: Digest): boolean => {
    const entry = planned.get(tag);
    return entry !== undefined && entry.action !== 'keep' && entry.digest === digest;
  };

  // Digests that must survive: those of every tag not about to be removed, and their children.
  // A pushed tag that already resolves to its digest holds it like any tag (or not, when it is
  // itself being removed); one that does not yet is held here.
  const pushes = (options.heldPushes?.get(name) ?? []).filter(
    (push) => current.get(push.tag)?.digest !== push.digest,
  );
  const held = await heldDigests(
    client,
    name,
    [
      ...[...current].filter(([tag, manifest]) => !isPlannedRemoval(tag, manifest.digest)),
      ...(await heldPushHolders(client, name, pushes, options.concurrency)),
    ],
    options.concurrency,
    options.knownChildren?.get(name),
  );
  for (const push of pushes) if (!held.has(push.digest)) held.set(push.digest, [heldPushLabel(push)]);

  const deletes = new Map<Digest, PlannedTag[]>();
  const removals: Removal[] = [];
  for (const tag of repository.tags) {
    // A dangling tag does not resolve, so it is not in `current`: clearDanglingTags removes it.
    if (tag.action === 'keep' || tag.dangling) continue;
    const now = current.get(tag.tag);
    if (!now) {
      skipChanged(tag, 'the tag no longer exists');
    } else if (now.digest !== tag.digest) {
      skipChanged(tag, `the tag now points at ${now.digest}`);
    } else if (heldSubject(tag, held)) {
      // A referrer goes with its subject: one a kept tag now reaches keeps it.
      skipChanged(tag, `its subject is now held by '${heldSubject(tag, held)}'`);
    } else if (tag.action === 'untag') {
      removals.push({ kind: 'untag', repository: name, tag });
    } else if (held.has(tag.digest)) {
      skipChanged(tag, `its digest is now also held by '${held.get(tag.digest)?.[0]}'`);
    } else {
      const group = deletes.get(tag.digest) ?? [];
      group.push(tag);
      deletes.set(tag.digest, group);
    }
  }
  for (const [digest, group] of deletes)
    removals.push({ kind: 'delete', repository: name, digest, tags: group });
  return removals;
}

/**
 * The repository's tags right now, for re-verification: listed again, and every listed tag
 * resolved (one HEAD each) except those planned for a digest delete, which keep their planned
 * digest. Those need no look: their digest goes whatever they point at now, and one moved since
 * (pushed again elsewhere) keeps its new digest, which the delete does not touch; the listing
 * after the removals reports it skipped. What must be read fresh is every tag that could hold a
 * planned digest: kept tags (moved onto one), untag candidates, and tags pushed since planning.
 */
async function readHolders(
  client: RegistryClient,
  repository: RepositoryPlan,
  concurrency: number,
): Promise<Map<string, ResolvedManifest>> {
  const doomed = new Map<string, ResolvedManifest>();
  for (const tag of repository.tags)
    if (tag.action === 'delete' && !tag.dangling)
      doomed.set(tag.tag, { digest: tag.digest, mediaType: tag.mediaType });
  const current = new Map<string, ResolvedManifest>();
  await pMap(
    await listTags(client, repository.name),
    async (tag) => {
      const manifest = doomed.get(tag) ?? (await client.resolve(repository.name, tag));
      if (manifest) current.set(tag, manifest);
    },
    { concurrency },
  );
  return current;
}

/** For a referrer tag (`sha256-<hex>[.sig|.att|.sbom]`) whose subject `held` has: what holds it. */
function heldSubject(tag: PlannedTag, held: ReadonlyMap<Digest, readonly string[]>): string | undefined {
  const subject = referrerSubject(tag.tag);
  return subject === undefined ? undefined : held.get(subject)?.[0];
}
