import { summarizePlan, type Digest, type Inventory, type Plan, type PlannedTag } from '../domain';
import { deleteLimitExceeded, planCleanup, type Policy } from '../policy';
import { DEFAULT_CONCURRENCY, type RegistryClient } from '../registry';
import { DeleteLimitExceededError } from './errors';
import { executePlan } from './execute';
import type { HeldPush } from './held';
import { collectInventory, type PlaceholderTag } from './inventory';
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
  /** Pushed tags per repository whose digests are held while removing (see {@link HeldPush}). */
  readonly heldPushes?: Pick<ReadonlyMap<string, readonly HeldPush[]>, 'get'>;
  /** Asked before each removal starts: a reason stops the removals not yet started. */
  readonly stopStarting?: () => string | undefined;
}

export interface PlannedRun {
  readonly plan: Plan;
  readonly inventory: Inventory;
}

/** Reads the registry and decides: nothing is removed. */
export async function planRun(options: RunOptions): Promise<PlannedRun> {
  const { inventory, placeholders } = await collectInventory(options.client, options.policy, options);
  const plan = planCleanup(inventory, options.policy, (options.now ?? (() => new Date()))(), {
    dryRun: true,
  });
  return { plan: finishingUntags(plan, placeholders), inventory };
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
  const { plan, inventory } = await planRun(options);
  if (options.dryRun) return plan;
  const exceeded = deleteLimitExceeded(plan, options.policy);
  if (exceeded) throw new DeleteLimitExceededError(exceeded.planned, exceeded.limit);
  return executePlan(
    options.client,
    { ...plan, dryRun: false },
    {
      concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
      knownChildren: childrenByRepository(inventory),
      ...(options.progress && { progress: options.progress }),
      ...(options.heldPushes && { heldPushes: options.heldPushes }),
      ...(options.stopStarting && { stopStarting: options.stopStarting }),
    },
  );
}

function childrenByRepository(inventory: Inventory): Map<string, Map<Digest, readonly Digest[]>> {
  const result = new Map<string, Map<Digest, readonly Digest[]>>();
  for (const repository of inventory.repositories) {
    const children = new Map<Digest, readonly Digest[]>();
    for (const tag of repository.tags) if (tag.children) children.set(tag.digest, tag.children);
    result.set(repository.name, children);
  }
  return result;
}
