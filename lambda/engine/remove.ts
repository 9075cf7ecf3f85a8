import { isTag, type Digest } from '../domain';
import { DEFAULT_CONCURRENCY, type RegistryClient } from '../registry';
import { EngineError } from './errors';
import { heldDigests } from './index-graph';
import { listTags, readCurrentTags } from './reads';

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
  /**
   * The other tags whose indexes reached the digest (`latest (through its index)`), which the
   * delete broke: only ever non-empty with `force` (without it, such a delete is refused).
   */
  readonly heldBy: readonly string[];
}

/** Options of {@link removeTag}. */
export interface RemoveTagOptions {
  /**
   * The digest the caller means (`REPO:TAG@DIGEST`): when the tag points elsewhere now, nothing is
   * removed and {@link RemovalRefusedError} says where it points.
   */
  readonly digest?: Digest;
  /** @default DEFAULT_CONCURRENCY */
  readonly concurrency?: number;
}

/** Options of {@link removeDigest}. */
export interface RemoveDigestOptions {
  /**
   * Delete the digest even when other tags reach it through their indexes (which breaks them).
   * @default false: refuse with {@link RemovalRefusedError}
   */
  readonly force?: boolean;
  /** @default DEFAULT_CONCURRENCY */
  readonly concurrency?: number;
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
 * A removal that would do what the caller did not ask for: the pinned tag moved, or the digest is
 * reached by other tags through their indexes. Nothing was removed.
 */
export class RemovalRefusedError extends EngineError {
  public readonly code = 'REMOVAL_REFUSED';
}

/**
 * Removes one tag and never another: when any other tag (or a tagged index, at any depth) holds
 * the same digest, only the tag goes (untag); otherwise the manifest is deleted. With a pinned
 * `digest`, a tag that points elsewhere now is left alone ({@link RemovalRefusedError}).
 */
export async function removeTag(
  client: RegistryClient,
  repository: string,
  tag: string,
  options: RemoveTagOptions = {},
): Promise<TagRemoval> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const pinned = options.digest;
  const current = await readCurrentTags(client, repository, concurrency);
  const target = current.get(tag);
  if (pinned && target && target.digest !== pinned) {
    throw new RemovalRefusedError(
      `${repository}:${tag} points at ${target.digest} now, not ${pinned}: nothing was removed`,
    );
  }
  if (!target) {
    // Listed but not resolving: dangling, with or without the manifest it names (see DanglingTag).
    const revision = await client.danglingRevision(repository, tag);
    if (!revision && !(await listTags(client, repository)).includes(tag))
      throw new NotFoundError(`${repository}:${tag} does not exist`);
    if (pinned && revision !== pinned) {
      throw new RemovalRefusedError(
        `${repository}:${tag} is listed but ${revision ? `names the gone manifest ${revision}` : 'links to no manifest'}, not ${pinned}: nothing was removed`,
      );
    }
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

/**
 * Deletes the digest a tag (or digest reference) names, with every tag on it; says which tags
 * went. When other tags reach the digest through their indexes (at any depth), deleting it would
 * break them: refused ({@link RemovalRefusedError}, naming them), unless `force`.
 */
export async function removeDigest(
  client: RegistryClient,
  repository: string,
  reference: string,
  options: RemoveDigestOptions = {},
): Promise<DigestRemoval> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
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
  const others = [...current].filter(([, manifest]) => manifest.digest !== target.digest);
  const heldBy = (
    (await heldDigests(client, repository, others, concurrency)).get(target.digest) ?? []
  ).sort();
  if (heldBy.length > 0 && !options.force) {
    throw new RemovalRefusedError(
      `${repository}@${target.digest} is reached by other tags through their indexes: ${heldBy.join(', ')}; ` +
        'deleting it would break them, so nothing was removed (--force deletes it anyway)',
    );
  }
  await client.deleteManifest(repository, target.digest);
  await confirmRemoved(client, repository, target.digest, target.digest);
  return { digest: target.digest, tags: tags.sort(), heldBy };
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
