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

/**
 * Whether a digest survives the plan: some kept tag reaches it, on the digest itself or through
 * indexes at any depth (tagged or not). Referrer tags are resolved on demand (a signature's
 * subject may itself be a tagged attestation), each digest once.
 */
class DigestSurvival {
  /** Keepers of digests no tag names (inner indexes, platform manifests), once known. */
  private readonly untaggedKeeper = new Map<Digest, TagEntry | null>();
  private readonly resolvingUntagged = new Set<Digest>();
  /** Loops met so far: a null found while one was open is not remembered (it may be partial). */
  private loopsMet = 0;

  public constructor(
    private readonly firstOnDigest: ReadonlyMap<Digest, TagEntry>,
    /** Child digest → the digests of the indexes (tagged or not) that list it. */
    private readonly parents: ReadonlyMap<Digest, readonly Digest[]>,
    /** Subjects the registry said it does not have. */
    private readonly absentSubjects: ReadonlySet<Digest>,
    private readonly rules: readonly CompiledRule[],
  ) {}

  /**
   * A kept tag on the digest whose first tag is `head` (one decided by protect or a rule, if
   * any), or else one that reaches it through indexes; null when no kept tag reaches it.
   */
  public keeperOf(head: TagEntry, viaIndex = false): TagEntry | null {
    if (head.keeperOnDigest !== undefined) return head.keeperOnDigest;
    if (head.resolvingDigest) {
      this.loopsMet += 1;
      // Back at a digest whose keeper is being worked out. Through an index (a malformed index
      // that lists itself, at some depth), the way round the loop adds no kept tag: the other
      // ways decide. Through referrer tags pointing at each other (`sha256-<y>.sig` on x,
      // `sha256-<x>.sig` on y), assuming the digest survives ends the loop on the safe side.
      return viaIndex ? null : head;
    }
    const loopsBefore = this.loopsMet;
    head.resolvingDigest = true;
    let keeper: TagEntry | null = null;
    // Tags decided by protect or the rules first: they name the keeper in reasons.
    for (let entry: TagEntry | undefined = head; entry && !keeper; entry = entry.nextOnDigest) {
      if (entry.intent === 'keep') keeper = entry;
    }
    for (let entry: TagEntry | undefined = head; entry && !keeper; entry = entry.nextOnDigest) {
      if (entry.intent === undefined && this.decided(entry).intent === 'keep') keeper = entry;
    }
    // A manifest of a kept index must stay, or the index breaks: the index's keeper holds it
    // too, however deep (an index may list untagged indexes).
    keeper ??= this.parentKeeper(head.digest);
    head.resolvingDigest = false;
    // A null found while a loop was open may miss the way out of it: worked out again when asked.
    if (keeper || this.loopsMet === loopsBefore) head.keeperOnDigest = keeper;
    return keeper;
  }

  /** A kept tag that reaches `digest` (tagged or not), or null. */
  public keeperOfDigest(digest: Digest, viaIndex = false): TagEntry | null {
    const head = this.firstOnDigest.get(digest);
    if (head) return this.keeperOf(head, viaIndex);
    const known = this.untaggedKeeper.get(digest);
    if (known !== undefined) return known;
    if (this.resolvingUntagged.has(digest)) {
      this.loopsMet += 1;
      return null; // the way round the loop adds nothing; the other parents decide
    }
    const loopsBefore = this.loopsMet;
    this.resolvingUntagged.add(digest);
    const keeper = this.parentKeeper(digest);
    this.resolvingUntagged.delete(digest);
    if (keeper || this.loopsMet === loopsBefore) this.untaggedKeeper.set(digest, keeper);
    return keeper;
  }

  /** Whether any tag reaches `digest`: it is tagged, or an index in the inventory lists it. */
  public isReached(digest: Digest): boolean {
    return this.firstOnDigest.has(digest) || this.parents.has(digest);
  }

  /** The entry, decided: a referrer tag's decision is derived from its subject's survival. */
  public decided(entry: TagEntry): TagEntry {
    if (entry.intent !== undefined) return entry;
    const subject = entry.subject as Digest;
    const keeper = this.keeperOfDigest(subject);
    if (entry.intent !== undefined) return entry; // decided while its subject was resolved
    const subjectHead = this.firstOnDigest.get(subject);
    if (keeper) {
      // keeperOf answers a loop with the subject's first tag, whatever its own decision.
      const looped = keeper === entry || keeper.intent !== 'keep';
      entry.decide(
        'keep',
        looped ? null : keeper.rule,
        looped
          ? `follows its subject ${subject}, which is kept (referrer tags point at each other)`
          : keeper.digest === subject
            ? `follows its subject '${keeper.tag}', which is kept`
            : `follows its subject ${subject}, which kept tag '${keeper.tag}' reaches through its index`,
      );
    } else if (subjectHead) {
      // keeperOf decided every tag on the subject before answering null.
      entry.decide('remove', subjectHead.rule, `follows its subject '${subjectHead.tag}', which is deleted`);
    } else if (this.isReached(subject)) {
      entry.decide('remove', null, `follows its subject ${subject}, which no kept tag reaches any more`);
    } else if (this.absentSubjects.has(subject) && !entry.subjectListedOnly) {
      this.decideOrphan(entry, subject);
    } else if (this.absentSubjects.has(subject)) {
      // Only a listing (a referrer index, the referrers API) says this is an artifact of a gone
      // subject: a stale or wrong listing must not remove a tag its own manifest does not tie there.
      entry.decide(
        'keep',
        null,
        `listed as a referrer of ${subject}, which is not in the repository: kept (only a referrer's own tag or manifest makes it an orphan)`,
      );
    } else {
      // Not tagged and in no index read: it may be stored untagged (an overwritten tag's old
      // image). Only a subject known to be gone makes its referrer an orphan.
      entry.decide(
        'keep',
        null,
        `follows its subject ${subject}, which no tag reaches but may be stored untagged: kept while it may exist`,
      );
    }
    return entry;
  }

  /**
   * A referrer whose subject is not in the repository any more: nothing can use it. It goes when
   * the first rule matching its name removes tags; otherwise it is kept, like any unmatched tag.
   */
  private decideOrphan(entry: TagEntry, subject: Digest): void {
    const orphan = `orphan referrer: its subject ${subject} is not in the repository`;
    const rule = this.rules[firstMatchingRule(this.rules, entry.tag)];
    if (!rule) entry.decide('keep', null, `${orphan}, but no rule matches: kept`);
    else if (rule.keep === undefined && rule.olderThanMs === undefined)
      entry.decide('keep', rule.name, `${orphan}, but rule '${rule.name}' removes nothing: kept`);
    else entry.decide('remove', rule.name, `${orphan}: removed`);
  }

  /** A kept tag reaching one of the indexes that list `digest`, or null. */
  private parentKeeper(digest: Digest): TagEntry | null {
    for (const parent of this.parents.get(digest) ?? []) {
      const keeper = this.keeperOfDigest(parent, true);
      if (keeper) return keeper;
    }
    return null;
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

/**
 * Child digest → the digests of the indexes that list it: tagged indexes (their first tag carries
 * the list) and the untagged inner indexes the inventory read.
 */
function indexParents(entries: readonly TagEntry[], repository: RepositoryInventory): Map<Digest, Digest[]> {
  const parents = new Map<Digest, Digest[]>();
  const link = (index: Digest, children: readonly Digest[]): void => {
    for (const child of children) {
      const list = parents.get(child);
      if (!list) parents.set(child, [index]);
      else if (!list.includes(index)) list.push(index);
    }
  };
  for (const entry of entries) {
    // Once per index digest: only its first tag carries the list.
    if (entry.record.children && entry.headOnDigest === entry) link(entry.digest, entry.record.children);
  }
  for (const index of repository.indexes ?? []) link(index.digest, index.children);
  // In digest order, so that the keeper named in reasons does not depend on the input's order.
  for (const list of parents.values()) if (list.length > 1) list.sort(compareText);
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

/** Code-unit order: the same on every machine and locale, unlike localeCompare. */
function compareText(left: string, right: string): number {
  if (left === right) return 0;
  return left < right ? -1 : 1;
}
