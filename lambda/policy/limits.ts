import type { Plan } from '../domain';
import type { Policy } from './policy';

/** How many tags a plan removes (`delete` and `untag`): what `limits.maxDeletesPerRun` caps. */
export function plannedRemovals(plan: Plan): number {
  let removals = 0;
  for (const repository of plan.repositories) {
    for (const tag of repository.tags) if (tag.action !== 'keep') removals += 1;
  }
  return removals;
}

/**
 * Why a run must stop before removing anything because the plan exceeds
 * `limits.maxDeletesPerRun`, or undefined when it is within the limit (or there is none).
 */
export function deleteLimitProblem(plan: Plan, policy: Policy): string | undefined {
  const limit = policy.document.limits.maxDeletesPerRun;
  if (limit === undefined) return undefined;
  const removals = plannedRemovals(plan);
  if (removals <= limit) return undefined;
  return `the plan removes ${removals} tags, more than limits.maxDeletesPerRun=${limit}: nothing was removed`;
}
