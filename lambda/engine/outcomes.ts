import type { PlannedTag, RepositoryPlan } from '../domain';
import type { UntagNotPermittedError } from '../registry';

/** How the executor records what became of a planned removal (the tag's `result` and reason). */

/** The tags of a repository's plan that are to be removed. */
export function removalsOf(repository: RepositoryPlan): PlannedTag[] {
  return repository.tags.filter((tag) => tag.action !== 'keep');
}

/** The tag changed since planning: left alone, and the reason says what changed. */
export function skipChanged(tag: PlannedTag, why: string): void {
  tag.result = 'skipped-changed';
  tag.reason = `${tag.reason}; skipped: ${why} since planning`;
}

/** What a removal that a stop left not started says after its plan's reason. */
const NOT_STARTED = '; not started: ';

/** The reason of a removal a stop (the Lambda deadline near) left not started: the plan's, and why. */
export function notStartedReason(reason: string, why: string): string {
  return `${reason}${NOT_STARTED}${why}`;
}

/** The plan's reason of a removal, without what a stop added to it ({@link notStartedReason}). */
export function plannedReason(reason: string): string {
  const stop = reason.indexOf(NOT_STARTED);
  return stop === -1 ? reason : reason.slice(0, stop);
}

/** The registry cannot remove a tag without its digest here: the tag is kept, marked shared. */
export function keepShared(tag: PlannedTag, error: UntagNotPermittedError): void {
  tag.action = 'keep';
  tag.shared = true;
  tag.reason = `${tag.reason}; kept: ${error.message}`;
}

/** The removal failed; the error (registry errors carry no credentials) says why. */
export function markFailed(tag: PlannedTag, error: unknown, context?: string): void {
  const message = error instanceof Error ? error.message : String(error);
  tag.result = 'failed';
  tag.error = context ? `${context}: ${message}` : message;
}
