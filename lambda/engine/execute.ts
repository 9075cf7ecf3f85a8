import pMap from 'p-map';
import {
  isIndex,
  summarizePlan,
  type Digest,
  type Plan,
  type PlannedTag,
  type RepositoryPlan,
} from '../domain';
import {
  AuthenticationError,
  DeletionDisabledError,
  RegistryUnreachableError,
  UntagNotPermittedError,
  type RegistryClient,
} from '../registry';
import { indexChildren, readCurrentTags } from './inventory';
import { PhaseCounter, type ProgressListener } from './progress';

export interface ExecuteOptions {
  readonly concurrency: number;
  readonly progress?: ProgressListener;
  /** Children of the index digests seen while planning, per repository (saves re-reading them). */
  readonly knownChildren?: ReadonlyMap<string, ReadonlyMap<Digest, readonly Digest[]>>;
}

/** Errors that make every further removal pointless: the run stops and reports one clear error. */
function isFatal(error: unknown): boolean {
  return (
    error instanceof DeletionDisabledError ||
    error instanceof AuthenticationError ||
    error instanceof RegistryUnreachableError
  );
}

/** A removal to carry out: one digest delete (covering all its planned tags) or one untag. */
type Removal =
  | { kind: 'delete'; repository: string; digest: Digest; tags: PlannedTag[] }
  | { kind: 'untag'; repository: string; tag: PlannedTag };

/**
 * Carries out a plan's removals, filling in each removed tag's `result`. Before anything is removed
 * the repository is read again: a tag whose digest moved, and a digest that a tag not planned for
 * removal (a new push, a re-pointed tag, a kept index's child) now holds, are `skipped-changed`.
 * Fatal registry errors (deletion disabled, bad credentials, unreachable) stop the run.
 */
export async function executePlan(
  client: RegistryClient,
  plan: Plan,
  options: ExecuteOptions,
): Promise<Plan> {
  const repositories = plan.repositories.filter((repository) =>
    repository.tags.some((tag) => tag.action !== 'keep'),
  );
  const verifying = new PhaseCounter('verify', repositories.length, options.progress);
  const removals: Removal[] = [];
  for (const repository of repositories) {
    removals.push(...(await verifyRepository(client, repository, options)));
    verifying.tick();
  }

  const removing = new PhaseCounter('remove', removals.length, options.progress);
  let untagRefused: UntagNotPermittedError | undefined;
  let fatal: unknown;
  await pMap(
    removals,
    async (removal) => {
      if (fatal) return;
      try {
        if (removal.kind === 'delete') {
          await client.deleteManifest(removal.repository, removal.digest);
          for (const tag of removal.tags) tag.result = 'deleted';
        } else if (untagRefused) {
          keepShared(removal.tag, untagRefused);
        } else {
          removal.tag.method = await client.untag(removal.repository, removal.tag.tag);
          removal.tag.result = 'untagged';
        }
      } catch (error) {
        if (isFatal(error)) {
          fatal ??= error;
        } else if (removal.kind === 'untag' && error instanceof UntagNotPermittedError) {
          untagRefused ??= error;
          keepShared(removal.tag, error);
        } else {
          const tags = removal.kind === 'delete' ? removal.tags : [removal.tag];
          for (const tag of tags) markFailed(tag, error);
        }
      } finally {
        removing.tick();
      }
    },
    { concurrency: options.concurrency },
  );
  if (fatal) throw fatal;
  return { ...plan, summary: summarizePlan(plan.repositories) };
}

/**
 * Re-reads one repository's tags and digests, marks what moved as `skipped-changed`, and returns
 * the removals that are still safe.
 */
async function verifyRepository(
  client: RegistryClient,
  repository: RepositoryPlan,
  options: ExecuteOptions,
): Promise<Removal[]> {
  const name = repository.name;
  const current = await readCurrentTags(client, name, options.concurrency);

  const planned = new Map(repository.tags.map((tag) => [tag.tag, tag]));
  const isPlannedRemoval = (tag: string, digest: Digest): boolean => {
    const entry = planned.get(tag);
    return entry !== undefined && entry.action !== 'keep' && entry.digest === digest;
  };

  // Digests that must survive: those of every tag not about to be removed, and their children.
  const held = new Map<Digest, string>();
  const heldIndexes: Array<{ tag: string; digest: Digest }> = [];
  for (const [tag, manifest] of current) {
    if (isPlannedRemoval(tag, manifest.digest)) continue;
    held.set(manifest.digest, tag);
    if (isIndex(manifest.mediaType)) heldIndexes.push({ tag, digest: manifest.digest });
  }
  const known = options.knownChildren?.get(name);
  await pMap(
    heldIndexes,
    async ({ tag, digest }) => {
      const children = known?.get(digest) ?? indexChildren((await client.getManifest(name, digest)).json);
      for (const child of children) if (!held.has(child)) held.set(child, `${tag} (index child)`);
    },
    { concurrency: options.concurrency },
  );

  const deletes = new Map<Digest, PlannedTag[]>();
  const removals: Removal[] = [];
  for (const tag of repository.tags) {
    if (tag.action === 'keep') continue;
    const now = current.get(tag.tag);
    if (!now) {
      skipChanged(tag, 'the tag no longer exists');
    } else if (now.digest !== tag.digest) {
      skipChanged(tag, `the tag now points at ${now.digest}`);
    } else if (tag.action === 'untag') {
      removals.push({ kind: 'untag', repository: name, tag });
    } else if (held.has(tag.digest)) {
      skipChanged(tag, `its digest is now also held by '${held.get(tag.digest)}'`);
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

function skipChanged(tag: PlannedTag, why: string): void {
  tag.result = 'skipped-changed';
  tag.reason = `${tag.reason}; skipped: ${why} since planning`;
}

function keepShared(tag: PlannedTag, error: UntagNotPermittedError): void {
  tag.action = 'keep';
  tag.shared = true;
  tag.reason = `${tag.reason}; kept: ${error.message}`;
}

function markFailed(tag: PlannedTag, error: unknown): void {
  tag.result = 'failed';
  tag.error = error instanceof Error ? error.message : String(error);
}
