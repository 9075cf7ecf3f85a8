import pMap from 'p-map';
import { summarizePlan, type Digest, type Plan, type PlannedTag, type RepositoryPlan } from '../domain';
import { referrerSubject } from '../policy';
import { UntagNotPermittedError, type RegistryClient, type ResolvedManifest } from '../registry';
import { SweepInterruptedError } from './errors';
import { heldPushHolders, heldPushLabel, type HeldPush } from './held';
import { errorMessage, heldDigests, isRunFatal, listTags } from './inventory';
import { PhaseCounter, type ProgressListener } from './progress';

/** A removal about to be sent, for {@link ExecuteOptions.archive}. */
export interface RemovalToArchive {
  readonly repository: string;
  readonly digest: Digest;
  /** The tags it takes down: every planned tag of a digest delete, the one tag of an untag. */
  readonly tags: readonly string[];
  /** The plan's reason (of the first tag). */
  readonly reason: string;
}

export interface ExecuteOptions {
  readonly concurrency: number;
  /**
   * Called just before each removal is sent (after every check): archives what it removes. When it
   * throws, that removal is not sent and is `failed` ("not removed: archiving it failed").
   */
  readonly archive?: (removal: RemovalToArchive) => Promise<void>;
  readonly progress?: ProgressListener;
  /** Children of the index digests seen while planning, per repository (saves re-reading them). */
  readonly knownChildren?: ReadonlyMap<string, ReadonlyMap<Digest, readonly Digest[]>>;
  /**
   * Pushed tags per repository whose digests count as held during re-verification, whatever the
   * tags resolve to now: the registry notifies a push before it links the tag. Read when each
   * repository is re-verified, so pushes learnt of during the run count too.
   */
  readonly heldPushes?: Pick<ReadonlyMap<string, readonly HeldPush[]>, 'get'>;
  /**
   * Asked before each removal starts; a reason (e.g. the Lambda deadline is near) stops that removal
   * and every later one: they are left without a `result`, the reason appended to theirs.
   */
  readonly stopStarting?: () => string | undefined;
}

/** Errors that make every further removal pointless: the run stops and reports one clear error. */
const isFatal = isRunFatal;

/** A removal to carry out: one digest delete (covering all its planned tags) or one untag. */
type Removal =
  | { kind: 'delete'; repository: string; digest: Digest; tags: PlannedTag[] }
  | { kind: 'untag'; repository: string; tag: PlannedTag };

/**
 * Carries out a plan's removals, filling in each removed tag's `result`, one repository at a time.
 * Just before a repository's removals it is read again: a tag whose digest moved, and a digest
 * that a tag not planned for removal (a new push, a re-pointed tag, a kept index's child) now
 * holds, are `skipped-changed`; an untag checks its tag once more right before. A repository that
 * cannot be read again gets an `error` and its removals `failed`; the others go on. Fatal registry
 * errors (deletion disabled, bad credentials, unreachable) stop the run: before any removal they
 * are thrown as they are; after one, as {@link SweepInterruptedError} carrying the plan with every
 * unfinished removal `failed`.
 * After a repository's removals its tags are listed once more: a removed tag still there at its
 * planned digest is `failed`, and tags the registry left listed but pointing at nothing are cleared
 * (see {@link clearDanglingTags}).
 */
export async function executePlan(
  client: RegistryClient,
  plan: Plan,
  options: ExecuteOptions,
): Promise<Plan> {
  const repositories = plan.repositories.filter((repository) =>
    repository.tags.some((tag) => tag.action !== 'keep'),
  );
  const removing = new PhaseCounter(
    'remove',
    repositories.reduce((sum, repository) => sum + removalsOf(repository).length, 0),
    options.progress,
  );
  let untagRefused: UntagNotPermittedError | undefined;
  let fatal: unknown;
  let removed = 0;
  let stopped: string | undefined;
  const carryOut = async (removal: Removal): Promise<void> => {
    if (fatal) return;
    const tags = removal.kind === 'delete' ? removal.tags : [removal.tag];
    stopped ??= options.stopStarting?.();
    if (stopped) {
      for (const tag of tags) {
        tag.reason = `${tag.reason}; not started: ${stopped}`;
        removing.tick();
      }
      return;
    }
    try {
      if (removal.kind === 'delete') {
        await archiveFirst(options, removal.repository, removal.digest, removal.tags);
        await client.deleteManifest(removal.repository, removal.digest);
        for (const tag of removal.tags) tag.result = 'deleted';
      } else if (untagRefused) {
        keepShared(removal.tag, untagRefused);
      } else if (await untagMoved(client, removal)) {
        // skipped: the tag was pushed again since the repository was re-read
      } else {
        await archiveFirst(options, removal.repository, removal.tag.digest, [removal.tag]);
        removal.tag.method = await client.untag(removal.repository, removal.tag.tag);
        removal.tag.result = 'untagged';
      }
      if (tags.some((tag) => tag.result === 'deleted' || tag.result === 'untagged')) removed += 1;
    } catch (error) {
      if (isFatal(error)) {
        fatal ??= error;
        for (const tag of tags) markFailed(tag, error);
      } else if (removal.kind === 'untag' && error instanceof UntagNotPermittedError) {
        untagRefused ??= error;
        keepShared(removal.tag, error);
      } else {
        for (const tag of tags) markFailed(tag, error);
      }
    } finally {
      for (let count = 0; count < tags.length; count += 1) removing.tick();
    }
  };

  for (const repository of repositories) {
    if (fatal) break;
    let removals: Removal[];
    try {
      removals = await verifyRepository(client, repository, options);
    } catch (error) {
      if (isFatal(error)) {
        fatal = error;
        break;
      }
      repository.error = `could not read the repository again: ${errorMessage(error)}`;
      for (const tag of removalsOf(repository)) markFailed(tag, error, 'could not read the repository again');
      continue;
    } finally {
      // Tags already decided (skipped since planning, or failed to re-read) are done too.
      for (const tag of removalsOf(repository)) if (tag.result !== undefined) removing.tick();
    }
    // distribution 2.x rewrites a tag's link file in place (truncate, then write), and a digest
    // DELETE reads every tag's link after deleting the manifest: one that reads a link being
    // rewritten answers 500 and leaves the digest's tags dangling (listed, pointing at nothing).
    // An untag pushes a placeholder under its tag, so it never runs beside another removal of the
    // same repository; deletes only remove links, and run side by side.
    for (const removal of removals) if (removal.kind === 'untag') await carryOut(removal);
    await pMap(
      removals.filter((removal) => removal.kind === 'delete'),
      carryOut,
      { concurrency: options.concurrency },
    );
    if (fatal) break;
    try {
      removed += await clearDanglingTags(client, repository);
    } catch (error) {
      // The tags could not be listed again: the removals are not confirmed, so the repository is
      // reported (a rerun checks them); their results stand as the registry answered them.
      if (isFatal(error)) fatal = error;
      else repository.error = `could not check the removals: ${errorMessage(error)}`;
      for (const tag of repository.tags)
        if (tag.dangling && tag.action === 'untag' && tag.result === undefined) markFailed(tag, error);
    } finally {
      for (const tag of repository.tags) if (tag.dangling && tag.action === 'untag') removing.tick();
    }
  }
  if (fatal) {
    if (removed === 0) throw fatal;
    for (const repository of repositories)
      for (const tag of removalsOf(repository))
        if (tag.result === undefined) markFailed(tag, fatal, 'not attempted');
    throw new SweepInterruptedError(fatal, { ...plan, summary: summarizePlan(plan.repositories) }, removed);
  }
  return { ...plan, summary: summarizePlan(plan.repositories) };
}

/** Archives a removal before it is sent; a failure says the removal was not sent. */
async function archiveFirst(
  options: ExecuteOptions,
  repository: string,
  digest: Digest,
  tags: readonly PlannedTag[],
): Promise<void> {
  if (!options.archive) return;
  try {
    await options.archive({
      repository,
      digest,
      tags: tags.map((tag) => tag.tag),
      reason: tags[0]?.reason ?? '',
    });
  } catch (error) {
    throw new Error(`not removed: archiving the manifest first failed: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}

/** The tags of a repository's plan that are to be removed. */
function removalsOf(repository: RepositoryPlan): PlannedTag[] {
  return repository.tags.filter((tag) => tag.action !== 'keep');
}

/**
 * Checks the repository's removals against a fresh tag list, and clears its dangling tags: those
 * planned as such, and those this sweep's removals left. A tag reported removed that is still
 * listed and still resolves at its planned digest was not removed, whatever the registry answered:
 * it is `failed`. distribution 2.x deletes a manifest before it removes the tags on it: a DELETE
 * that fails in between (a 500 when a push rewrites one of the repository's tag links at that
 * moment, or the registry stopping mid-request) leaves the digest's tags listed but pointing at
 * nothing. So after a repository's removals its tags are listed once more; a tag this sweep
 * removed, or failed to remove, that is still listed but no longer resolves is cleared with an
 * untag and reported done. One tag list per repository, and one HEAD per removed tag still listed:
 * none when nothing is left over. Returns how many removals this turned from failed (or not yet
 * done) into done.
 */
async function clearDanglingTags(client: RegistryClient, repository: RepositoryPlan): Promise<number> {
  const name = repository.name;
  const planned = repository.tags.filter((tag) => tag.dangling && tag.action === 'untag');
  const attempted = repository.tags.filter(
    (tag) =>
      !tag.dangling && (tag.result === 'deleted' || tag.result === 'untagged' || tag.result === 'failed'),
  );
  if (planned.length === 0 && attempted.length === 0) return 0;
  let listed = new Set(await listTags(client, name));
  let completed = 0;
  for (const tag of [...planned, ...attempted]) {
    // Not listed: gone. Listed: null when it dangles (resolves to nothing).
    const now = listed.has(tag.tag) ? await client.resolve(name, tag.tag) : undefined;
    if (now !== null) {
      // Planned: removed, or pushed again, since planning. Otherwise: gone, or still resolving:
      // pushed again since (another digest), or not removed at all (the planned digest).
      if (tag.dangling)
        skipChanged(tag, listed.has(tag.tag) ? 'the tag was pushed again' : 'the tag no longer exists');
      else if (now?.digest === tag.digest && tag.result !== 'failed')
        // (`removed` is left as it was: counting too many only ever reports the run as interrupted.)
        markFailed(
          tag,
          `the registry accepted the removal, yet the tag is still listed and resolves at ${tag.digest}`,
        );
      else if (now && tag.result === 'deleted')
        // Pushed again elsewhere before its old digest went: the tag stays, at its new digest.
        skipChanged(tag, `the tag now points at ${now.digest}`);
      continue;
    }
    const left = 'the manifest was gone but the tag still listed, pointing at nothing';
    let failure: unknown;
    // Clearing writes to the repository too, and can meet the same race: while the tag still
    // dangles, up to CLEARING_ROUNDS untags.
    for (let round = 1; round <= CLEARING_ROUNDS; round += 1) {
      try {
        await client.untag(name, tag.tag);
        failure = undefined;
        break;
      } catch (error) {
        if (isFatal(error)) throw error;
        failure = error;
      }
      listed = new Set(await listTags(client, name));
      if (!(await dangles(client, name, tag.tag, listed))) {
        // Gone after all, or left pointing at the placeholder (the error says which to delete).
        if (!listed.has(tag.tag)) failure = undefined;
        break;
      }
    }
    if (failure !== undefined) {
      markFailed(tag, failure, tag.dangling ? undefined : `${left}, and clearing it failed`);
      continue;
    }
    if (tag.dangling) {
      completed += 1;
    } else if (tag.result === 'failed') {
      completed += 1;
      tag.reason = `${tag.reason}; the registry answered an error (${tag.error ?? 'unknown'}), yet ${left}: cleared`;
      delete tag.error;
    } else {
      tag.reason = `${tag.reason}; ${left}: cleared`;
    }
    tag.result = tag.action === 'untag' ? 'untagged' : 'deleted';
  }
  return completed;
}

/**
 * How many untags {@link clearDanglingTags} tries on one tag that keeps dangling. Each can meet the
 * same 2.x race that left the tag (a tag link rewritten while the placeholder's DELETE walks the
 * tags): with four tags rewritten non-stop, three rounds were seen to fail in a row on a loaded
 * CI machine; six make that vanishingly rare, and what is still left is `failed` (a rerun clears it).
 */
const CLEARING_ROUNDS = 6;

/** Whether `tag` is listed but resolves to nothing. */
async function dangles(
  client: RegistryClient,
  repository: string,
  tag: string,
  listed: ReadonlySet<string>,
): Promise<boolean> {
  return listed.has(tag) && (await client.resolve(repository, tag)) === null;
}

/**
 * Checks an untag's tag one last time: an untag writes to the tag itself, so a tag pushed again
 * since the repository was re-read would otherwise be replaced and removed.
 */
async function untagMoved(
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
async function verifyRepository(
  client: RegistryClient,
  repository: RepositoryPlan,
  options: ExecuteOptions,
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

function skipChanged(tag: PlannedTag, why: string): void {
  tag.result = 'skipped-changed';
  tag.reason = `${tag.reason}; skipped: ${why} since planning`;
}

function keepShared(tag: PlannedTag, error: UntagNotPermittedError): void {
  tag.action = 'keep';
  tag.shared = true;
  tag.reason = `${tag.reason}; kept: ${error.message}`;
}

function markFailed(tag: PlannedTag, error: unknown, context?: string): void {
  const message = error instanceof Error ? error.message : String(error);
  tag.result = 'failed';
  tag.error = context ? `${context}: ${message}` : message;
}
