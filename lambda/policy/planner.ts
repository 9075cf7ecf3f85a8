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
import { rulesForRepository, type CompiledRule, type Policy, type ProtectPattern } from './policy';
import { PROTECT_RULE_NAME } from './schema';
import { decideCandidates } from './streams';

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
 * Order of precedence for a tag: `protect` patterns; a cosign-style referrer tag whose subject
 * is tagged in the repository follows that subject; otherwise the first rule whose repositories
 * and tags match (and whose `exclude` does not); otherwise it is kept. Finally, a removal whose
 * digest is still held by a kept tag becomes `untag` (or `keep` + `shared`).
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
  const entries = repository.tags
    .map((record) => new TagEntry(record))
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
    } else if (entry.subject !== undefined && hasOtherTag(firstOnDigest.get(entry.subject), entry)) {
      // Another tag points at the subject: follow it. A referrer tag alone with its subject
      // (or mis-tagged onto it) has nothing to follow and is decided by the rules.
      referrers.push(entry);
    } else {
      const index = firstMatchingRule(rules, entry.tag);
      if (index >= 0) (candidates[index] as TagEntry[]).push(entry);
      else entry.decide('keep', null, 'no rule matches');
    }
  }
  rules.forEach((rule, index) => decideCandidates(rule, candidates[index] as TagEntry[], nowMs));

  const survival = new DigestSurvival(firstOnDigest, indexParents(entries, firstOnDigest));
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

/**
 * Whether a digest survives the plan: some tag on it is kept. Referrer tags are resolved on
 * demand (a signature's subject may itself be a tagged attestation), each digest once.
 */
class DigestSurvival {
  public constructor(
    private readonly firstOnDigest: ReadonlyMap<Digest, TagEntry>,
    /** For each digest that tagged indexes point at: the first tags of those indexes. */
    private readonly parents: ReadonlyMap<Digest, readonly TagEntry[]>,
  ) {}

  /**
   * A kept tag on the digest whose first tag is `head` (one decided by protect or a rule, if
   * any), or null when every tag on it is removed.
   */
  public keeperOf(head: TagEntry): TagEntry | null {
    if (head.keeperOnDigest !== undefined) return head.keeperOnDigest;
    // Referrer tags can be pointed at each other in a loop (`sha256-<y>.sig` on x, `sha256-<x>.sig`
    // on y); assuming the digest survives ends the loop on the safe side.
    if (head.resolvingDigest) return head;
    head.resolvingDigest = true;
    let keeper: TagEntry | null = null;
    // Tags decided by protect or the rules first: they name the keeper in reasons.
    for (let entry: TagEntry | undefined = head; entry && !keeper; entry = entry.nextOnDigest) {
      if (entry.intent === 'keep') keeper = entry;
    }
    for (let entry: TagEntry | undefined = head; entry && !keeper; entry = entry.nextOnDigest) {
      if (entry.intent === undefined && this.decided(entry).intent === 'keep') keeper = entry;
    }
    // A platform manifest of a kept index must stay, or the index breaks: the index's keeper
    // holds it too (nested indexes resolve the same way).
    for (const parent of this.parents.get(head.digest) ?? []) {
      if (keeper) break;
      keeper = this.keeperOf(parent);
    }
    head.resolvingDigest = false;
    head.keeperOnDigest = keeper;
    return keeper;
  }

  /** The entry, decided: a referrer tag's decision is derived from its subject's survival. */
  public decided(entry: TagEntry): TagEntry {
    if (entry.intent !== undefined) return entry;
    const subject = entry.subject as Digest;
    const subjectHead = this.firstOnDigest.get(subject) as TagEntry;
    const keeper = this.keeperOf(subjectHead);
    if (entry.intent !== undefined) return entry; // decided while its subject was resolved
    if (keeper) {
      // keeperOf answers a loop with the subject's first tag, whatever its own decision.
      const looped = keeper === entry || keeper.intent !== 'keep';
      entry.decide(
        'keep',
        looped ? null : keeper.rule,
        looped
          ? `follows its subject ${subject}, which is kept (referrer tags point at each other)`
          : `follows its subject '${keeper.tag}', which is kept`,
      );
    } else {
      // keeperOf decided every tag on the subject before answering null.
      entry.decide('remove', subjectHead.rule, `follows its subject '${subjectHead.tag}', which is deleted`);
    }
    return entry;
  }
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

/** Child digest → the first tags of the tagged indexes that point at it. */
function indexParents(
  entries: readonly TagEntry[],
  firstOnDigest: ReadonlyMap<Digest, TagEntry>,
): Map<Digest, TagEntry[]> {
  const parents = new Map<Digest, TagEntry[]>();
  for (const entry of entries) {
    const children = entry.record.children;
    // Once per index digest: only its first tag carries the list.
    if (!children || entry.headOnDigest !== entry) continue;
    for (const child of children) {
      if (!firstOnDigest.has(child)) continue;
      const list = parents.get(child) ?? [];
      list.push(entry);
      parents.set(child, list);
    }
  }
  return parents;
}

function firstMatching(patterns: readonly ProtectPattern[], tag: string): ProtectPattern | undefined {
  for (const pattern of patterns) if (pattern.regex.test(tag)) return pattern;
  return undefined;
}

/** The index of the first rule whose tags match and whose exclude does not, or -1. */
function firstMatchingRule(rules: readonly CompiledRule[], tag: string): number {
  for (let index = 0; index < rules.length; index += 1) {
    const rule = rules[index] as CompiledRule;
    if ((!rule.tags || rule.tags.test(tag)) && !rule.exclude?.test(tag)) return index;
  }
  return -1;
}

function hasOtherTag(first: TagEntry | undefined, entry: TagEntry): boolean {
  for (let other = first; other; other = other.nextOnDigest) if (other !== entry) return true;
  return false;
}

/** Code-unit order: the same on every machine and locale, unlike localeCompare. */
function compareText(left: string, right: string): number {
  if (left === right) return 0;
  return left < right ? -1 : 1;
}
