import type { Plan } from '../domain';
import type { Policy } from './policy';

/**
 * How many removals a plan makes: tags (`delete` and `untag`) and untagged manifests deleted by
 * digest. What `limits.maxDeletesPerRun` caps.
 */
export function plannedRemovals(plan: Plan): number {
  let removals = 0;
  for (const repository of plan.repositories) {
    for (const tag of repository.tags) if (tag.action !== 'keep') removals += 1;
    for (const manifest of repository.untagged ?? []) if (manifest.action === 'delete') removals += 1;
  }
  return removals;
}

/**
 * The one check of `limits.maxDeletesPerRun`: the planned removals and the limit when the plan
 * exceeds it (the run must stop before removing anything), or undefined when it is within the
 * limit (or there is none).
 */
export function deleteLimitExceeded(
  plan: Plan,
  policy: Policy,
): { planned: number; limit: number } | undefined {
  const limit = policy.document.limits.maxDeletesPerRun;
  if (limit === undefined) return undefined;
  const planned = plannedRemovals(plan);
  return planned > limit ? { planned, limit } : undefined;
}
