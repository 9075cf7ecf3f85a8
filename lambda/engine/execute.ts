import pMap from 'p-map';
import { summarizePlan, type Digest, type Plan, type PlannedTag, type RepositoryPlan } from '../domain';
import { UntagNotPermittedError, type RegistryClient } from '../registry';
import type { ArchiveEntry } from './archive';
import { clearDanglingTags } from './dangling';
import { SweepInterruptedError } from './errors';
import type { HeldPush } from './held';
import { errorMessage, isRunFatal } from './reads';
import { keepShared, markFailed, notStartedReason, removalsOf } from './outcomes';
import { PhaseCounter, type ProgressListener } from './progress';
import { untagMoved, verifyRepository, type Removal } from './verify';

export interface ExecuteOptions {
  readonly concurrency: number;
  /**
   * Called just before each removal is sent (after every check): archives what it removes. When it
   * throws, that removal is not sent and is `failed` ("not removed: archiving it failed").
   */
  readonly archive?: (removal: ArchiveEntry) => Promise<void>;
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
  const run = new Execution(
    new PhaseCounter(
      'remove',
      repositories.reduce((sum, repository) => sum + removalsOf(repository).length, 0),
      options.progress,
    ),
  );
  const carryOut = async (removal: Removal): Promise<void> => {
    if (run.fatal) return;
    const tags = removal.kind === 'delete' ? removal.tags : [removal.tag];
    run.stopped ??= options.stopStarting?.();
    if (run.stopped) {
      for (const tag of tags) tag.reason = notStartedReason(tag.reason, run.stopped);
      return run.done(tags);
    }
    try {
      if (removal.kind === 'delete') {
        await archiveFirst(options, removal.repository, removal.digest, removal.tags);
        await client.deleteManifest(removal.repository, removal.digest);
        for (const tag of removal.tags) tag.result = 'deleted';
      } else if (run.untagRefused) {
        keepShared(removal.tag, run.untagRefused);
      } else if (await untagMoved(client, removal)) {
        // skipped: the tag was pushed again since the repository was re-read
      } else {
        await archiveFirst(options, removal.repository, removal.tag.digest, [removal.tag]);
        removal.tag.method = await client.untag(removal.repository, removal.tag.tag);
        removal.tag.result = 'untagged';
      }
      if (tags.some((tag) => tag.result === 'deleted' || tag.result === 'untagged')) run.removed += 1;
    } catch (error) {
      if (isFatal(error)) {
        run.fatal ??= error;
        for (const tag of tags) markFailed(tag, error);
      } else if (removal.kind === 'untag' && error instanceof UntagNotPermittedError) {
        run.untagRefused ??= error;
        keepShared(removal.tag, error);
      } else {
        for (const tag of tags) markFailed(tag, error);
      }
    }
    run.done(tags);
  };

  for (const repository of repositories) {
    if (run.fatal) break;
    let removals: Removal[];
    try {
      removals = await verifyRepository(client, repository, options);
    } catch (error) {
      if (isFatal(error)) {
        run.fatal = error;
        break;
      }
      repository.error = `could not read the repository again: ${errorMessage(error)}`;
      for (const tag of removalsOf(repository)) markFailed(tag, error, 'could not read the repository again');
      run.finished(repository);
      continue;
    }
    // Tags already decided (skipped since planning) are done.
    run.done(removalsOf(repository).filter((tag) => tag.result !== undefined));
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
    if (run.fatal) break;
    try {
      run.removed += await clearDanglingTags(client, repository);
    } catch (error) {
      // The tags could not be listed again: the removals are not confirmed, so the repository is
      // reported (a rerun checks them); their results stand as the registry answered them.
      if (isFatal(error)) run.fatal = error;
      else repository.error = `could not check the removals: ${errorMessage(error)}`;
      for (const tag of repository.tags)
        if (tag.dangling && tag.action === 'untag' && tag.result === undefined) markFailed(tag, error);
    }
    run.finished(repository);
  }
  if (run.fatal) {
    if (run.removed === 0) throw run.fatal;
    for (const repository of repositories)
      for (const tag of removalsOf(repository))
        if (tag.result === undefined) markFailed(tag, run.fatal, 'not attempted');
    throw new SweepInterruptedError(
      run.fatal,
      { ...plan, summary: summarizePlan(plan.repositories) },
      run.removed,
    );
  }
  return { ...plan, summary: summarizePlan(plan.repositories) };
}

/**
 * The state of one {@link executePlan}: what stops it (a fatal error, a stop reason, the registry
 * refusing untags), how many removals are done, and which planned removals the progress counted
 * (each once, whichever way it ended).
 */
class Execution {
  /** A fatal registry error: no further removal starts. */
  public fatal: unknown;
  /** Why removals stopped starting (the Lambda deadline near), once asked. */
  public stopped: string | undefined;
  /** The registry refused an untag: every later untag keeps its tag (`shared`). */
  public untagRefused: UntagNotPermittedError | undefined;
  /** Removals the registry shows done. */
  public removed = 0;
  private readonly counted = new Set<PlannedTag>();

  public constructor(private readonly progress: PhaseCounter) {}

  /** These planned removals are over (done, skipped, failed or not started). */
  public done(tags: readonly PlannedTag[]): void {
    for (const tag of tags) {
      if (this.counted.has(tag)) continue;
      this.counted.add(tag);
      this.progress.tick();
    }
  }

  /** Every planned removal of the repository is over, its dangling tags' included. */
  public finished(repository: RepositoryPlan): void {
    this.done(removalsOf(repository));
  }
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
