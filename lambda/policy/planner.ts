import { NO_DIGEST, summarizePlan } from '../domain';
import type {
  DanglingTag,
  Digest,
  Inventory,
  Plan,
  PlannedTag,
  RepositoryInventory,
  RepositoryPlan,
} from '../domain';
import { TagEntry } from './entry';
import { withLedgerTimes } from './ledger-times';
import { rulesForRepository, type CompiledRule, type Policy } from './policy';
import { PROTECT_RULE_NAME } from './schema';
import { compareText, firstMatching, firstMatchingRule } from './rule-match';
import { decideCandidates } from './streams';
import { DigestSurvival, indexParents } from './survival';

/** How the plan may remove a tag whose digest a kept tag still holds. */
export interface PlanOptions {
  /**
   * Whether tags can be removed without their digest (tag-only DELETE, or the placeholder
   * re-point). When false, such tags are kept and marked `shared`.
   * @default true
   */
  untagSupported?: boolean;
  /** Recorded in the plan. @default true */
  dryRun?: boolean;
  /**
   * The inventory was read with a ledger: every tag of the plan then carries `pushedAt` and
   * `pulledAt` (ISO 8601, or null when the ledger saw none). Without, both fields are left out,
   * so that a plan made without a ledger is byte-identical to one made before the ledger existed.
   * Decisions never depend on it, only on the times in the inventory's records.
   * @default false
   */
  ledger?: boolean;
}

/**
 * Decides every tag of the inventory: `keep`, `delete` (its digest goes, with all its tags) or
 * `untag` (only the tag goes), each with the deciding rule and a reason. Pure: the same
 * inventory, policy and `now` give the same plan, whatever the order of the input.
 *
 * Order of precedence for a tag: `protect` patterns; a referrer tag (`sha256-<hex>`,
 * `sha256-<hex>.sig|.att|.sbom`) or a tag on an artifact with a `subject` follows that subject
 * (kept while a kept tag reaches the subject, removed with it; an orphan, whose subject the
 * registry does not have, goes when a rule matching its name removes tags) and never counts
 * towards `keep`; otherwise the first rule whose repositories and tags match (and whose `exclude`
 * does not); otherwise it is kept. Finally, a removal whose digest a kept tag still reaches, on
 * the digest or through indexes at any depth, becomes `untag` (or `keep` + `shared`).
 */
export function planCleanup(
  inventory: Inventory,
  policy: Policy,
  now: Date,
  options: PlanOptions = {},
): Plan {
  const nowMs = now.getTime();
  const untagSupported = options.untagSupported ?? true;
  const repositories = [...inventory.repositories]
    .sort((a, b) => compareText(a.name, b.name))
    .map((repository) => {
      const planned = planRepository(repository, policy, nowMs, untagSupported);
      return options.ledger ? withLedgerTimes(planned, repository) : planned;
    });
  return {
    registry: inventory.registry,
    generatedAt: now.toISOString(),
    dryRun: options.dryRun ?? true,
    repositories,
    summary: summarizePlan(repositories),
  };
}

function planRepository(
  repository: RepositoryInventory,
  policy: Policy,
  nowMs: number,
  untagSupported: boolean,
): RepositoryPlan {
  const rules = rulesForRepository(policy, repository.name);
  const knownSubjects = new Map<Digest, Digest>();
  for (const { digest, subject } of repository.referrers ?? []) {
    // An artifact names one subject; should two sources disagree, the same one wins whatever the order.
    const known = knownSubjects.get(digest);
    if (known === undefined || compareText(subject, known) < 0) knownSubjects.set(digest, subject);
  }
  const entries = repository.tags
    .map((record) => new TagEntry(record, knownSubjects.get(record.digest)))
    .sort((a, b) => compareText(a.tag, b.tag));
  // The tags of each digest, in name order, as a list (see TagEntry.headOnDigest).
  const firstOnDigest = new Map<Digest, TagEntry>();
  for (const entry of entries) {
    const head = firstOnDigest.get(entry.digest);
    if (head) {
      head.lastOnDigest.nextOnDigest = entry;
      head.lastOnDigest = entry;
      entry.headOnDigest = head;
    } else {
      firstOnDigest.set(entry.digest, entry);
    }
  }

  const candidates: TagEntry[][] = rules.map(() => []);
  const referrers: TagEntry[] = [];
  for (const entry of entries) {
    const protector = firstMatching(policy.protect, entry.tag);
    if (protector) {
      entry.decide('keep', PROTECT_RULE_NAME, `protected by '${protector.source}'`);
    } else if (entry.subject !== undefined) {
      // A referrer tag, or a tag on an artifact with a `subject`: never a build, never counted
      // towards `keep`; it follows its subject (DigestSurvival.decided).
      referrers.push(entry);
    } else {
      const index = firstMatchingRule(rules, entry.tag);
      if (index >= 0) (candidates[index] as TagEntry[]).push(entry);
      else entry.decide('keep', null, 'no rule matches');
    }
  }
  rules.forEach((rule, index) => decideCandidates(rule, candidates[index] as TagEntry[], nowMs));

  const survival = new DigestSurvival(
    firstOnDigest,
    indexParents(entries, repository),
    new Set(repository.absentSubjects ?? []),
    rules,
  );
  for (const entry of referrers) survival.decided(entry);

  const tags = entries.map((entry) => toPlannedTag(entry, survival, untagSupported));
  if (repository.dangling?.length) {
    for (const dangling of repository.dangling)
      tags.push(planDangling(dangling, policy, rules, untagSupported));
    tags.sort((a, b) => compareText(a.tag, b.tag));
  }
  return { name: repository.name, tags };
}

/**
 * Decides a tag whose manifest is gone. It is no image (no age, no place in a stream): the policy
 * only says whether its name may go. Protected, matched by no rule, or matched by a rule that
 * removes nothing: kept. Otherwise it is removed (`untag`: the manifest is gone already).
 */
function planDangling(
  dangling: DanglingTag,
  policy: Policy,
  rules: readonly CompiledRule[],
  untagSupported: boolean,
): PlannedTag {
  const gone = dangling.digest
    ? 'listed, but its manifest is gone (a digest delete failed halfway)'
    : 'listed, but links to no manifest (a tag removal cut short)';
  const planned: PlannedTag = {
    tag: dangling.tag,
    digest: dangling.digest ?? NO_DIGEST,
    mediaType: '',
    created: null,
    action: 'keep',
    rule: null,
    reason: '',
    dangling: true,
  };
  const protector = firstMatching(policy.protect, dangling.tag);
  if (protector)
    return { ...planned, rule: PROTECT_RULE_NAME, reason: `protected by '${protector.source}'; ${gone}` };
  const rule = rules[firstMatchingRule(rules, dangling.tag)];
  if (!rule) return { ...planned, reason: `no rule matches; ${gone}` };
  if (rule.keep === undefined && rule.olderThanMs === undefined)
    return { ...planned, rule: rule.name, reason: `rule '${rule.name}' removes nothing; ${gone}` };
  if (!untagSupported)
    return { ...planned, rule: rule.name, reason: `${gone}, and untag is unsupported: kept` };
  return { ...planned, action: 'untag', rule: rule.name, reason: `${gone}: removing the tag finishes it` };
}

function toPlannedTag(entry: TagEntry, survival: DigestSurvival, untagSupported: boolean): PlannedTag {
  survival.decided(entry);
  const planned: PlannedTag = {
    tag: entry.tag,
    digest: entry.digest,
    mediaType: entry.record.mediaType,
    created: entry.createdMs === undefined ? null : (entry.record.created as Date).toISOString(),
    action: 'keep',
    rule: entry.rule,
    reason: entry.reason,
  };
  if (entry.intent === 'keep') return planned;
  const keeper = survival.keeperOf(entry.headOnDigest);
  if (!keeper) {
    planned.action = 'delete';
    return planned;
  }
  const held = `digest also held by kept tag '${keeper.tag}'${keeper.digest === entry.digest ? '' : ' (a manifest of that index)'}`;
  if (untagSupported) {
    planned.action = 'untag';
    planned.reason = `${entry.reason}; ${held}: untag only`;
  } else {
    planned.shared = true;
    planned.reason = `${entry.reason}; ${held} and untag is unsupported: kept`;
  }
  return planned;
}
