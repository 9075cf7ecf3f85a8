import type { PlannedTag, RepositoryInventory, RepositoryPlan } from '../domain';
import { knownTime } from './entry';

/**
 * The repository's plan with `pushedAt` and `pulledAt` on every tag (ISO 8601, or null when the
 * ledger saw none; always null on a dangling tag, which has no record), placed after `created`.
 * Only for plans made with a ledger: without one the plan has neither field.
 */
export function withLedgerTimes(plan: RepositoryPlan, repository: RepositoryInventory): RepositoryPlan {
  const records = new Map(repository.tags.map((record) => [record.tag, record]));
  return {
    ...plan,
    tags: plan.tags.map((planned): PlannedTag => {
      const record = planned.dangling ? undefined : records.get(planned.tag);
      const { tag, digest, mediaType, created, ...rest } = planned;
      return {
        tag,
        digest,
        mediaType,
        created,
        pushedAt: isoOrNull(record?.pushedAt),
        pulledAt: isoOrNull(record?.pulledAt),
        ...rest,
      };
    }),
  };
}

function isoOrNull(date: Date | undefined): string | null {
  const time = knownTime(date);
  return time === undefined ? null : new Date(time).toISOString();
}
