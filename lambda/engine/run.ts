import { ulid } from 'ulid';
import {
  summarizePlan,
  type Digest,
  type Inventory,
  type Plan,
  type PlannedTag,
  type RepositoryPlan,
  type UntaggedManifestPlan,
} from '../domain';
import type { LedgerStore } from '../ledger';
import { deleteLimitExceeded, planCleanup, type Policy } from '../policy';
import { DEFAULT_CONCURRENCY, type RegistryClient } from '../registry';
import { DeleteLimitExceededError, SweepInterruptedError } from './errors';
import { createArchiver, type ArchiveEntry } from './archive';
import { executePlan } from './execute';
import type { HeldPush } from './held';
import { collectInventory, type PlaceholderTag } from './inventory';
import { recordRemovals, withLedgerTimes } from './ledger';
import { removeUntagged, withUntagged } from './untagged';
import type { ProgressListener } from './progress';

export interface RunOptions {
  readonly client: RegistryClient;
  readonly policy: Policy;
  /** Only these repositories; default: every repository in the catalog that a rule covers. */
  readonly repositories?: readonly string[];
  readonly concurrency?: number;
  readonly progress?: ProgressListener;
  /** The clock, for tests; default: the system clock. */
  readonly now?: () => Date;
  /**
   * What regsweep remembers of the registry: push and pull times for the planner (`order:
   * pushed`, `keepPulledWithin`; the plan then carries `pushedAt` / `pulledAt`), and where a
   * sweep records its removals. Absent: no ledger (a policy that needs one is refused at load).
   */
  readonly ledger?: LedgerStore;
  /**
   * The run's id, for the ledger's archives (`restore --run`); a sweep with a ledger makes a new
   * ULID when none is given (a continuation on AWS passes its run's).
   */
  readonly runId?: string;
  /** Told what went wrong on the side without failing the run (a ledger write after removals). */
  readonly warn?: (message: string) => void;
  /** Pushed tags per repository whose digests are held while removing (see {@link HeldPush}). */
  readonly heldPushes?: Pick<ReadonlyMap<string, readonly HeldPush[]>, 'get'>;
  /** Asked before each removal starts: a reason stops the removals not yet started. */
  readonly stopStarting?: () => string | undefined;
  /**
   * Asked once per repository, after planning and before any of its removals, with how many it
   * plans: false skips the repository whole (its removals are not started; each says why). On AWS
   * this reserves them from the scheduled run's budget, one atomic update in the ledger.
   */
  readonly reserveRemovals?: (repository: string, count: number) => Promise<boolean>;
  /**
   * A plan to carry out instead of planning: a continuation's pending plan (the removals the
   * invocation before it did not start). It is checked and re-verified like a plan made now.
   */
  readonly plan?: Plan;
}

/** Appended to the reason of each removal a repository skipped for the run's budget. */
export const BUDGET_SKIPPED =
  "not started: the run's budget (limits.maxDeletesPerRun) has no room for this repository's removals";

export interface PlannedRun {
  readonly plan: Plan;
  readonly inventory: Inventory;
}

/**
 * Reads the registry and decides: nothing is removed. A repository that could not be read is in
 * the plan with its `error` and no tags (none of its tags is removed).
 */
export async function planRun(options: RunOptions): Promise<PlannedRun> {
  const collected = await collectInventory(options.client, options.policy, options);
  const { placeholders, unreadable } = collected;
  const inventory = options.ledger
    ? await withLedgerTimes(collected.inventory, options.ledger, options.concurrency ?? DEFAULT_CONCURRENCY)
    : collected.inventory;
  const now = (options.now ?? (() => new Date()))();
  let plan = planCleanup(inventory, options.policy, now, {
    dryRun: true,
    ledger: options.ledger !== undefined,
  });
  // With a ledger and an `untagged` entry: the ledger's manifests no current tag reaches.
  if (options.ledger && options.policy.untagged.length > 0)
    plan = await withUntagged(options.client, options.ledger, options.policy, inventory, plan, now, {
      concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
      ...(options.warn && { warn: options.warn }),
    });
  return { plan: withUnreadable(finishingUntags(plan, placeholders), unreadable), inventory };
}

/** Adds each repository that could not be read, with no tags and the error that stopped it. */
function withUnreadable(plan: Plan, unreadable: ReadonlyMap<string, string>): Plan {
  if (unreadable.size === 0) return plan;
  const failed = [...unreadable].map(([name, error]): RepositoryPlan => ({
    name,
    tags: [],
    error: `could not read the repository: ${error}`,
  }));
  const repositories = [...plan.repositories, ...failed].sort((a, b) => (a.name < b.name ? -1 : 1));
  return { ...plan, repositories, summary: summarizePlan(repositories) };
}

/**
 * Adds a removal for each tag an interrupted untag left on its placeholder: deleting the
 * placeholder's digest removes that tag and nothing else (no other tag can share it).
 */
function finishingUntags(plan: Plan, placeholders: readonly PlaceholderTag[]): Plan {
  if (placeholders.length === 0) return plan;
  const repositories = plan.repositories.map((repository) => {
    const left = placeholders.filter((placeholder) => placeholder.repository === repository.name);
    if (left.length === 0) return repository;
    const finishing = left.map(({ tag, manifest }): PlannedTag => ({
      tag,
      digest: manifest.digest,
      mediaType: manifest.mediaType,
      created: null,
      action: 'delete',
      rule: null,
      reason: 'an interrupted untag left it on a placeholder manifest; removing it finishes that untag',
    }));
    const tags = [...repository.tags, ...finishing].sort((a, b) => (a.tag < b.tag ? -1 : 1));
    return { ...repository, tags };
  });
  return { ...plan, repositories, summary: summarizePlan(repositories) };
}

/**
 * Plans, checks `limits.maxDeletesPerRun`, then carries out the removals (re-verifying each just
 * before). With `dryRun` it stops after planning. The returned plan carries each removal's result.
 */
export async function sweepRun(options: RunOptions & { readonly dryRun?: boolean }): Promise<Plan> {
  const { plan, inventory } = options.plan
    ? { plan: options.plan, inventory: undefined }
    : await planRun(options);
  if (options.dryRun) return plan;
  const exceeded = deleteLimitExceeded(plan, options.policy);
  if (exceeded) throw new DeleteLimitExceededError(exceeded.planned, exceeded.limit);
  if (options.reserveRemovals) await reserveOrSkip(plan, options.reserveRemovals);
  const ledger = options.ledger;
  const runId = ledger ? (options.runId ?? ulid()) : undefined;
  const now = options.now ?? (() => new Date());
  const archive =
    ledger && runId ? createArchiver(options.client, ledger, plan, runId, now, options.warn) : undefined;
  let swept: Plan;
  try {
    swept = await executePlan(
      options.client,
      { ...plan, dryRun: false, ...(runId && { runId }) },
      {
        concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
        knownChildren: childrenByRepository(inventory),
        ...(options.progress && { progress: options.progress }),
        ...(options.heldPushes && { heldPushes: options.heldPushes }),
        ...(options.stopStarting && { stopStarting: options.stopStarting }),
        // Before each removal, the exact manifest body goes into the ledger under the run's id.
        ...(archive && { archive }),
      },
    );
    if (ledger) await sweepUntagged(options, ledger, swept, inventory, archive);
  } catch (error) {
    if (error instanceof SweepInterruptedError) await recordInLedger(options, error.plan);
    throw error;
  }
  await recordInLedger(options, swept);
  return swept;
}

/**
 * Removes each repository's planned untagged manifests once its tag removals are done (see
 * {@link removeUntagged}), archiving each body first under the run's id, and records the deletes
 * in the ledger.
 */
async function sweepUntagged(
  options: RunOptions,
  ledger: LedgerStore,
  plan: Plan,
  inventory: Inventory | undefined,
  archive: ((entry: ArchiveEntry) => Promise<void>) | undefined,
): Promise<void> {
  const knownChildren = childrenByRepository(inventory);
  for (const repository of plan.repositories) {
    const planned = (repository.untagged ?? []).filter((manifest) => manifest.action === 'delete');
    if (planned.length === 0) continue;
    // The planned manifests' facts (planning made sure the ledger has them): their children.
    const records = await ledger.getManifests(
      repository.name,
      planned.map((manifest) => manifest.digest),
    );
    const children = new Map<Digest, readonly Digest[]>();
    for (const [digest, record] of records) if (record.children) children.set(digest, record.children);
    const known = knownChildren.get(repository.name);
    const removed = await removeUntagged(options.client, repository, {
      concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
      children,
      ...(known && { knownChildren: known }),
      ...(options.heldPushes && { heldPushes: options.heldPushes }),
      ...(options.stopStarting && { stopStarting: options.stopStarting }),
      ...(archive && {
        archive: (name: string, manifest: UntaggedManifestPlan) =>
          archive({ repository: name, digest: manifest.digest, tags: [], reason: manifest.reason }),
      }),
    });
    if (removed === 0) continue;
    const deletes = (repository.untagged ?? []).filter((manifest) => manifest.result === 'deleted');
    await ledger
      .recordEvents(
        deletes.map((manifest) => ({
          id: `regsweep:${plan.generatedAt}:${repository.name}@${manifest.digest}`,
          action: 'delete' as const,
          repository: repository.name,
          digest: manifest.digest,
          timestamp: (options.now ?? (() => new Date()))(),
        })),
      )
      .catch((error: unknown) =>
        options.warn?.(`the ledger could not record the untagged removals: ${(error as Error).message}`),
      );
  }
  plan.summary = summarizePlan(plan.repositories);
}

/**
 * Reserves each repository's planned removals, one repository at a time; a repository that does not
 * fit keeps every tag: its removals are turned into `keep` with {@link BUDGET_SKIPPED} appended,
 * so nothing of it is removed and the plan says why.
 */
async function reserveOrSkip(
  plan: Plan,
  reserve: (repository: string, count: number) => Promise<boolean>,
): Promise<void> {
  for (const repository of plan.repositories) {
    const removals = repository.tags.filter((tag) => tag.action !== 'keep');
    const untagged = (repository.untagged ?? []).filter((manifest) => manifest.action === 'delete');
    const count = removals.length + untagged.length;
    if (count === 0 || (await reserve(repository.name, count))) continue;
    for (const removal of [...removals, ...untagged]) {
      removal.action = 'keep';
      removal.reason = `${removal.reason}; ${BUDGET_SKIPPED}`;
    }
  }
  plan.summary = summarizePlan(plan.repositories);
}

/**
 * Writes a sweep's removals to the ledger, if any. The removals happened whatever the ledger
 * answers: a failed write is a warning (the registry's delete notifications, where `serve` or the
 * webhook records them, tell the ledger the same), never a failed run.
 */
async function recordInLedger(options: RunOptions, plan: Plan): Promise<void> {
  if (!options.ledger) return;
  try {
    await recordRemovals(options.ledger, plan, (options.now ?? (() => new Date()))());
  } catch (error) {
    options.warn?.(`the ledger could not record this sweep's removals: ${(error as Error).message}`);
  }
}

/** The children of the index digests an inventory saw, per repository (none without one). */
function childrenByRepository(inventory: Inventory | undefined): Map<string, Map<Digest, readonly Digest[]>> {
  const result = new Map<string, Map<Digest, readonly Digest[]>>();
  for (const repository of inventory?.repositories ?? []) {
    const children = new Map<Digest, readonly Digest[]>();
    for (const tag of repository.tags) if (tag.children) children.set(tag.digest, tag.children);
    for (const index of repository.indexes ?? []) children.set(index.digest, index.children);
    result.set(repository.name, children);
  }
  return result;
}
