import type { Digest } from './digest';

/** What the plan does with a tag: `delete` removes its digest, `untag` removes only the tag. */
export type TagAction = 'keep' | 'delete' | 'untag';

/** What happened when a sweep carried out a removal. */
export type TagResult = 'deleted' | 'untagged' | 'skipped-changed' | 'failed';

/** How an untag was done: tag-only DELETE, or re-pointing the tag at a throw-away placeholder. */
export type UntagMethod = 'delete-tag' | 'placeholder';

/** One tag's decision, with the rule and a human reason; `result` is filled in by a sweep. */
/** The `digest` of a dangling tag whose registry names no manifest for it: empty. */
export const NO_DIGEST = '' as Digest;

export interface PlannedTag {
  tag: string;
  digest: Digest;
  mediaType: string;
  /** ISO 8601, or null when the image's age is unknown. */
  created: string | null;
  /**
   * ISO 8601 of the tag's last push the ledger saw, or null when it saw none. Present only in a
   * plan made with a ledger (`PlanOptions.ledger`): a plan made without one has neither this nor
   * `pulledAt`, and stays byte-identical to plans made before the ledger existed.
   */
  pushedAt?: string | null;
  /** ISO 8601 of the digest's last client pull the ledger saw, or null; present like `pushedAt`. */
  pulledAt?: string | null;
  action: TagAction;
  /** The deciding rule's name; `protect` for protected tags; null when no rule matched. */
  rule: string | null;
  reason: string;
  /** Set when the tag is kept only because its digest is shared with a kept tag and untag is impossible. */
  shared?: boolean;
  /**
   * Set when the tag is listed but its manifest (`digest`) is gone, after a digest delete that
   * failed halfway; `mediaType` is then empty, `created` null, and `digest` {@link NO_DIGEST} when
   * the registry names none. Its removal is an `untag`.
   */
  dangling?: boolean;
  result?: TagResult;
  /** How an untag was carried out. */
  method?: UntagMethod;
  /** Why the removal failed (result `failed`), without credentials. */
  error?: string;
}

/** One untagged manifest of a repository (from the ledger): no current tag reaches it. */
export interface UntaggedManifestPlan {
  digest: Digest;
  mediaType: string;
  /** ISO 8601 of its last push (or the last time it was seen tagged), or null. */
  pushedAt: string | null;
  /** ISO 8601 of its last client pull by digest, or null. */
  pulledAt: string | null;
  /** `delete`: removed by digest; `keep`: stays (the reason says why). */
  action: 'keep' | 'delete';
  reason: string;
  result?: TagResult;
  error?: string;
}

export interface RepositoryPlan {
  name: string;
  tags: PlannedTag[];
  /** With an `untagged` policy entry covering the repository: its untagged manifests, in removal order. */
  untagged?: UntaggedManifestPlan[];
  /** Config and layer bytes only this run's removals in the repository reference. */
  reclaimableBytes?: number;
  /**
   * Set when the repository could not be read (its tags listed, a manifest or config read) after
   * the retries, or not read again before its removals: nothing more of it is removed, and a
   * repository that could not be read while planning has no tags in the plan. The run is
   * incomplete (exit 1); a rerun retries it.
   */
  error?: string;
}

export interface PlanSummary {
  repositories: number;
  tags: number;
  keep: number;
  delete: number;
  untag: number;
  failed: number;
  /** Repositories with an `error`: not (or not wholly) read or cleaned. */
  failedRepositories: number;
  /** Untagged manifests planned for deletion; present when some repository lists `untagged`. */
  untagged?: number;
  /** The sum of the repositories' `reclaimableBytes`; present when some repository has it. */
  reclaimableBytes?: number;
}

/** The stable plan JSON: what `plan --json` prints and `sweep --json` extends with results. */
export interface Plan {
  registry: string;
  generatedAt: string;
  dryRun: boolean;
  /**
   * The run's id (a ULID), present on a sweep with a ledger: the ledger files each removal's
   * archived manifest under it, and `regsweep restore --run <runId>` puts them back.
   */
  runId?: string;
  repositories: RepositoryPlan[];
  summary: PlanSummary;
}

/** Recounts a plan's summary from its tags (after results were filled in). */
export function summarizePlan(repositories: readonly RepositoryPlan[]): PlanSummary {
  const summary: PlanSummary = {
    repositories: repositories.length,
    tags: 0,
    keep: 0,
    delete: 0,
    untag: 0,
    failed: 0,
    failedRepositories: 0,
  };
  for (const repository of repositories) {
    if (repository.error !== undefined) summary.failedRepositories += 1;
    if (repository.untagged !== undefined)
      summary.untagged =
        (summary.untagged ?? 0) +
        repository.untagged.filter((manifest) => manifest.action === 'delete').length;
    if (repository.reclaimableBytes !== undefined)
      summary.reclaimableBytes = (summary.reclaimableBytes ?? 0) + repository.reclaimableBytes;
    for (const tag of repository.tags) {
      summary.tags += 1;
      summary[tag.action] += 1;
      if (tag.result === 'failed') summary.failed += 1;
    }
  }
  return summary;
}

/** How the tags of a plan ended: kept by the plan, or the result of their removal. */
export interface PlanResultCounts {
  deleted: number;
  untagged: number;
  kept: number;
  skippedChanged: number;
  failed: number;
  /** Repositories that could not be read or cleaned (their `error`). */
  failedRepositories: number;
}

/**
 * Counts a swept plan's outcomes: a `keep` tag is kept, any other counts by its `result` (a tag
 * not yet removed, as in a dry run, counts nowhere). The one count the logs, metrics and bench use.
 */
export function countResults(plan: Pick<Plan, 'repositories'>): PlanResultCounts {
  const counts: PlanResultCounts = {
    deleted: 0,
    untagged: 0,
    kept: 0,
    skippedChanged: 0,
    failed: 0,
    failedRepositories: 0,
  };
  for (const repository of plan.repositories) {
    if (repository.error !== undefined) counts.failedRepositories += 1;
    for (const tag of repository.tags) {
      if (tag.action === 'keep') counts.kept += 1;
      else if (tag.result === 'deleted') counts.deleted += 1;
      else if (tag.result === 'untagged') counts.untagged += 1;
      else if (tag.result === 'skipped-changed') counts.skippedChanged += 1;
      else if (tag.result === 'failed') counts.failed += 1;
    }
  }
  return counts;
}
