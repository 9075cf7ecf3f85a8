import type { Digest, Inventory, PlannedTag, TagRecord } from '../../../lambda/domain';
import { MediaType } from '../../../lambda/domain';
import type { Plan } from '../../../lambda/domain';

/** The clock every planner test uses. */
export const NOW = new Date('2026-11-28T00:00:00.000Z');
export const DAY_MS = 86_400_000;

/** A sha256 digest made of one repeated hex character or a short hex seed, padded to 64. */
export function digestOf(seed: string | number): Digest {
  const hex = typeof seed === 'number' ? seed.toString(16) : seed;
  return `sha256:${hex.padStart(64, '0')}`;
}

/** A cosign-style referrer tag for `subject`. */
export function referrerTagOf(subject: Digest, kind: 'sig' | 'att' | 'sbom' = 'sig'): string {
  return `${subject.replace(':', '-')}.${kind}`;
}

/** A tag record `daysAgo` days before NOW (undefined: age unknown). */
export function tagRecord(tag: string, digest: Digest, daysAgo?: number): TagRecord {
  return {
    tag,
    digest,
    mediaType: MediaType.OciManifest,
    ...(daysAgo !== undefined && { created: new Date(NOW.getTime() - daysAgo * DAY_MS) }),
  };
}

/** Days before NOW as a Date. */
export function daysBeforeNow(days: number): Date {
  return new Date(NOW.getTime() - days * DAY_MS);
}

/** What the ledger saw of a tag, in days before NOW (undefined: never seen). */
export interface LedgerDays {
  pushed?: number;
  pulled?: number;
}

/** A tag record with the ledger's push and pull times, `created` as in {@link tagRecord}. */
export function ledgerRecord(
  tag: string,
  digest: Digest,
  createdDaysAgo: number | undefined,
  { pushed, pulled }: LedgerDays,
): TagRecord {
  return {
    ...tagRecord(tag, digest, createdDaysAgo),
    ...(pushed !== undefined && { pushedAt: daysBeforeNow(pushed) }),
    ...(pulled !== undefined && { pulledAt: daysBeforeNow(pulled) }),
  };
}

/** An inventory of one repository. */
export function inventoryOf(name: string, tags: readonly TagRecord[]): Inventory {
  return { registry: 'http://127.0.0.1:5000', repositories: [{ name, tags }] };
}

/** The plan's tags of one repository, by tag name. */
export function tagsByName(plan: Plan, repository?: string): Map<string, PlannedTag> {
  const found = repository
    ? plan.repositories.find((entry) => entry.name === repository)
    : plan.repositories[0];
  return new Map((found?.tags ?? []).map((tag) => [tag.tag, tag]));
}

/** `tag → action` for compact assertions. */
export function actions(plan: Plan, repository?: string): Record<string, string> {
  return Object.fromEntries([...tagsByName(plan, repository)].map(([tag, planned]) => [tag, planned.action]));
}
