import { isTag, type Digest } from '../domain';
import { DEFAULT_CONCURRENCY, type RegistryClient } from '../registry';
import { EngineError } from './errors';
import { heldDigests, listTags, readCurrentTags } from './inventory';

/** What `removeTag` did. */
export interface TagRemoval {
  /** The digest the tag pointed at; absent for a dangling tag that linked to none. */
  readonly digest?: Digest;
  /**
   * `deleted`: no other tag held the digest, so the manifest went; `untagged`: only the tag went;
   * `cleared`: the tag was dangling (its manifest, `digest`, gone already) and is gone now.
   */
  readonly outcome: 'deleted' | 'untagged' | 'cleared';
  /** The other tags (or kept indexes) that hold the same digest, when untagged. */
  readonly heldBy: readonly string[];
  readonly method?: 'delete-tag' | 'placeholder';
}

/** What `removeDigest` did. */
export interface DigestRemoval {
  readonly digest: Digest;
  /** Every tag that pointed at the digest, and so is gone with it. */
  readonly tags: readonly string[];
}

/** Error for a tag or digest that is not in the repository. */
export class NotFoundError extends Error {
  public readonly code = 'NOT_FOUND';
  public constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/**
 * Removes one tag and never another: when any other tag (or a tagged index, as its child) holds
 * the same digest, only the tag goes (untag); otherwise the manifest is deleted.
 */
export async function removeTag(
  client: RegistryClient,
  repository: string,
  tag: string,
  concurrency = DEFAULT_CONCURRENCY,
): Promise<TagRemoval> {
  const current = await readCurrentTags(client, repository, concurrency);
  const target = current.get(tag);
  if (!target) {
    // Listed but not resolving: dangling, with or without the manifest it names (see DanglingTag).
    const revision = await client.danglingRevision(repository, tag);
    if (!revision && !(await listTags(client, repository)).includes(tag))
      throw new NotFoundError(`${repository}:${tag} does not exist`);
    const method = await client.untag(repository, tag);
    return { ...(revision && { digest: revision }), outcome: 'cleared', heldBy: [], method };
  }

  const others = [...current].filter(([other]) => other !== tag);
  const heldBy = (await heldDigests(client, repository, others, concurrency)).get(target.digest) ?? [];
  if (heldBy.length > 0) {
    const method = await client.untag(repository, tag);
    await confirmRemoved(client, repository, tag, target.digest);
    return { digest: target.digest, outcome: 'untagged', heldBy: heldBy.sort(), method };
  }
  // Re-verify just before the delete: the tag must still point at the digest we checked.
  const now = await client.resolve(repository, tag);
  if (!now || now.digest !== target.digest) {
    throw new NotFoundError(`${repository}:${tag} moved while being removed; nothing was deleted`);
  }
  await client.deleteManifest(repository, target.digest);
  await confirmRemoved(client, repository, tag, target.digest);
  return { digest: target.digest, outcome: 'deleted', heldBy: [] };
}

/** Deletes the digest a tag (or digest reference) names, with every tag on it; says which tags went. */
export async function removeDigest(
  client: RegistryClient,
  repository: string,
  reference: string,
  concurrency = DEFAULT_CONCURRENCY,
): Promise<DigestRemoval> {
  const target = await client.resolve(repository, reference);
  if (!target) {
    const revision = isTag(reference) ? await client.danglingRevision(repository, reference) : undefined;
    throw new NotFoundError(
      revision
        ? `${repository}:${reference} has no manifest to delete: ${revision} is gone already, the tag was left (remove it without --digest)`
        : `${repository}:${reference} does not exist`,
    );
  }
  const current = await readCurrentTags(client, repository, concurrency);
  const tags = [...current].filter(([, manifest]) => manifest.digest === target.digest).map(([tag]) => tag);
  await client.deleteManifest(repository, target.digest);
  await confirmRemoved(client, repository, target.digest, target.digest);
  return { digest: target.digest, tags: tags.sort() };
}

/**
 * A removal counts as done only once the registry shows it done: one HEAD of `reference` (the
 * removed tag, or the deleted digest), which must no longer resolve at `digest`.
 */
async function confirmRemoved(
  client: RegistryClient,
  repository: string,
  reference: string,
  digest: Digest,
): Promise<void> {
  const now = await client.resolve(repository, reference);
  if (now?.digest !== digest) return;
  const what = reference === digest ? `${repository}@${digest}` : `${repository}:${reference}`;
  throw new EngineError(
    `the registry accepted the removal of ${what}, yet it still resolves at ${digest}: it was not removed`,
  );
}
