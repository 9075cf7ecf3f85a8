import { summarizePlan } from '../domain';
import type {
  Digest,
  Inventory,
  Plan,
  PlannedTag,
  RepositoryInventory,
  RepositoryPlan,
  TagRecord,
} from '../domain';
import { referrerSubject } from './matchers';
import { rulesForRepository, type Policy } from './policy';
import { PROTECT_RULE_NAME } from './schema';
import { decideCandidates, type Decision, type TagEntry } from './streams';

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
    .map((repository) => planRepository(repository, policy, nowMs, untagSupported));
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
  const entries = repository.tags.map(toEntry).sort((a, b) => compareText(a.tag, b.tag));
  const tagsByDigest = new Map<Digest, TagEntry[]>();
  for (const entry of entries) {
    const sharing = tagsByDigest.get(entry.digest);
    if (sharing) sharing.push(entry);
    else tagsByDigest.set(entry.digest, [entry]);
  }

  const candidates: TagEntry[][] = rules.map(() => []);
  const referrers: TagEntry[] = [];
  for (const entry of entries) {
    const protector = policy.protect.find((pattern) => pattern.regex.test(entry.tag));
    if (protector) {
      entry.decision = {
        intent: 'keep',
        rule: PROTECT_RULE_NAME,
        reason: `protected by '${protector.source}'`,
      };
    } else if (
      entry.subject !== undefined &&
      tagsByDigest.get(entry.subject)?.some((other) => other !== entry)
    ) {
      // Another tag points at the subject: follow it. A referrer tag alone with its subject
      // (or mis-tagged onto it) has nothing to follow and is decided by the rules.
      referrers.push(entry);
    } else {
      const index = rules.findIndex(
        (rule) => (!rule.tags || rule.tags.test(entry.tag)) && !rule.exclude?.test(entry.tag),
      );
      if (index >= 0) (candidates[index] as TagEntry[]).push(entry);
      else entry.decision = { intent: 'keep', rule: null, reason: 'no rule matches' };
    }
  }
  rules.forEach((rule, index) => decideCandidates(rule, candidates[index] as TagEntry[], nowMs));

  const survival = new DigestSurvival(tagsByDigest);
  for (const entry of referrers) survival.decisionOf(entry);

  return {
    name: repository.name,
    tags: entries.map((entry) => toPlannedTag(entry, survival, untagSupported)),
  };
}

/**
 * Whether a digest survives the plan: some tag on it is kept. Referrer tags are resolved on
 * demand (a signature's subject may itself be a tagged attestation), each digest once.
 */
class DigestSurvival {
  private readonly keepers = new Map<Digest, TagEntry | null>();
  private readonly resolving = new Set<Digest>();

  public constructor(private readonly tagsByDigest: ReadonlyMap<Digest, readonly TagEntry[]>) {}

  /** A kept tag on `digest` (one decided by protect or a rule, if any), or null when every tag on it is removed. */
  public keeperOf(digest: Digest): TagEntry | null {
    const known = this.keepers.get(digest);
    if (known !== undefined) return known;
    // Referrer tags can be pointed at each other in a loop (`sha256-<y>.sig` on x, `sha256-<x>.sig`
    // on y); assuming the digest survives ends the loop on the safe side.
    if (this.resolving.has(digest)) return this.tagsByDigest.get(digest)?.[0] ?? null;
    this.resolving.add(digest);
    const tags = this.tagsByDigest.get(digest) ?? [];
    // Tags decided by protect or the rules first: they name the keeper in reasons.
    const keeper =
      tags.find((entry) => entry.decision?.intent === 'keep') ??
      tags.find((entry) => !entry.decision && this.decisionOf(entry).intent === 'keep') ??
      null;
    this.resolving.delete(digest);
    this.keepers.set(digest, keeper);
    return keeper;
  }

  /** The tag's decision; a referrer tag's is derived from its subject's survival. */
  public decisionOf(entry: TagEntry): Decision {
    if (entry.decision) return entry.decision;
    const subject = entry.subject as Digest;
    const keeper = this.keeperOf(subject);
    if (entry.decision) return entry.decision; // decided while its subject was resolved
    if (keeper) {
      const looped = keeper === entry || !keeper.decision;
      entry.decision = {
        intent: 'keep',
        rule: looped ? null : (keeper.decision?.rule ?? null),
        reason: looped
          ? `follows its subject ${subject}, which is kept (referrer tags point at each other)`
          : `follows its subject '${keeper.tag}', which is kept`,
      };
    } else {
      // keeperOf decided every tag on the subject before answering null.
      const first = (this.tagsByDigest.get(subject) as readonly TagEntry[])[0] as TagEntry;
      entry.decision = {
        intent: 'remove',
        rule: first.decision?.rule ?? null,
        reason: `follows its subject '${first.tag}', which is deleted`,
      };
    }
    return entry.decision;
  }
}

function toPlannedTag(entry: TagEntry, survival: DigestSurvival, untagSupported: boolean): PlannedTag {
  const decision = survival.decisionOf(entry);
  const planned: PlannedTag = {
    tag: entry.tag,
    digest: entry.digest,
    mediaType: entry.record.mediaType,
    created: entry.createdMs === undefined ? null : new Date(entry.createdMs).toISOString(),
    action: 'keep',
    rule: decision.rule,
    reason: decision.reason,
  };
  if (decision.intent === 'keep') return planned;
  const keeper = survival.keeperOf(entry.digest);
  if (!keeper) planned.action = 'delete';
  else if (untagSupported) {
    planned.action = 'untag';
    planned.reason = `${decision.reason}; digest also held by kept tag '${keeper.tag}': untag only`;
  } else {
    planned.shared = true;
    planned.reason = `${decision.reason}; digest also held by kept tag '${keeper.tag}' and untag is unsupported: kept`;
  }
  return planned;
}

function toEntry(record: TagRecord): TagEntry {
  const time = record.created?.getTime();
  // NaN (an invalid Date) and the 1970 epoch of reproducible builds both mean "unknown".
  const createdMs = time !== undefined && Number.isFinite(time) && time !== 0 ? time : undefined;
  return { record, tag: record.tag, digest: record.digest, createdMs, subject: referrerSubject(record.tag) };
}

/** Code-unit order: the same on every machine and locale, unlike localeCompare. */
function compareText(left: string, right: string): number {
  if (left === right) return 0;
  return left < right ? -1 : 1;
}
