import { PolicyError } from './errors';
import { rulesForRepository, type Policy } from './policy';

/** What `assertLedgerAvailable` tells the CLI user to do when no ledger is given. */
export const LEDGER_HINT = '--ledger FILE';

/**
 * The fields of a policy that use a ledger feature, as paths (`rules[2].keepPulledWithin`), in
 * policy order: `rules[i].order` when it is `pushed`, `rules[i].keepPulledWithin`, `untagged`
 * when it lists any entry, and `untagged[i].keepPulledWithin`. `order: natural` and the `ledger`
 * section need none: the first reads no age, the second only configures a ledger when one is used.
 */
export function ledgerRequirements(policy: Policy): string[] {
  const fields: string[] = [];
  policy.document.rules.forEach((rule, index) => {
    if (rule.order === 'pushed') fields.push(`rules[${index}].order`);
    if (rule.keepPulledWithin !== undefined) fields.push(`rules[${index}].keepPulledWithin`);
  });
  const untagged = policy.document.untagged ?? [];
  if (untagged.length > 0) fields.push('untagged');
  untagged.forEach((entry, index) => {
    if (entry.keepPulledWithin !== undefined) fields.push(`untagged[${index}].keepPulledWithin`);
  });
  return fields;
}

/**
 * Refuses, at policy load, a policy that uses ledger features when no ledger is available: one
 * issue per field, the field first (`rules[2].keepPulledWithin needs a ledger: --ledger FILE`).
 *
 * @param hint - what to do about it where the policy is loaded (the Lambdas say
 *   `set REGSWEEP_LEDGER_TABLE`); default {@link LEDGER_HINT}
 * @param source - where the policy came from (a file name), prefixed to each line
 * @throws PolicyError naming every such field, when `hasLedger` is false
 */
export function assertLedgerAvailable(
  policy: Policy,
  hasLedger: boolean,
  options: { hint?: string; source?: string } = {},
): void {
  if (hasLedger) return;
  const fields = ledgerRequirements(policy);
  if (fields.length === 0) return;
  const hint = options.hint ?? LEDGER_HINT;
  throw new PolicyError(
    fields.map((field) => `${field} needs a ledger: ${hint}`),
    { ...(options.source !== undefined && { source: options.source }) },
  );
}

/**
 * Which tags of a repository need their image age (the config blob's `created`) read before
 * planning:
 * - `none`: no rule covering the repository reads an age: `order: semver` or `natural` with
 *   `keep` only, or rules that remove nothing. The engine reads no config blob.
 * - `tags-not-pushed`: the only rules that read an age use `order: pushed`; they rank (and
 *   apply `olderThan`) by the ledger's push time, falling back to `created` for tags the ledger
 *   never saw pushed. The engine reads config blobs only for tags without a `pushedAt`.
 * - `every-tag`: some rule ranks by `created` (`order: created` with `keep`), or applies
 *   `olderThan` under `created`, `semver` or `natural` (their age is `created`, with the push
 *   time only as the fallback for an unknown `created`). The engine reads every config blob.
 *
 * `keepPulledWithin` reads the pull time only, which comes with the ledger, never an age.
 */
export type AgeNeed = 'none' | 'tags-not-pushed' | 'every-tag';

/** What planning `repository` needs read of image ages; see {@link AgeNeed}. */
export function policyAgeNeed(policy: Policy, repository: string): AgeNeed {
  let need: AgeNeed = 'none';
  for (const rule of rulesForRepository(policy, repository)) {
    const ranksByAge = (rule.order === 'created' || rule.order === 'pushed') && rule.keep !== undefined;
    if (!ranksByAge && rule.olderThanMs === undefined) continue;
    if (rule.order !== 'pushed') return 'every-tag';
    need = 'tags-not-pushed';
  }
  return need;
}

/**
 * True when planning `repository` needs image ages for some tag (see {@link policyAgeNeed}).
 * When false the engine can skip reading config blobs.
 */
export function policyNeedsAge(policy: Policy, repository: string): boolean {
  return policyAgeNeed(policy, repository) !== 'none';
}
