import type { Digest, RepositoryInventory } from '../domain';
import type { TagEntry } from './entry';
import type { CompiledRule } from './policy';
import { compareText, firstMatchingRule } from './rule-match';

/**
 * Whether a digest survives the plan: some kept tag reaches it, on the digest itself or through
 * indexes at any depth (tagged or not). Referrer tags are resolved on demand (a signature's
 * subject may itself be a tagged attestation), each digest once.
 */
export class DigestSurvival {
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

/**
 * Child digest → the digests of the indexes that list it: tagged indexes (their first tag carries
 * the list) and the untagged inner indexes the inventory read.
 */
export function indexParents(
  entries: readonly TagEntry[],
  repository: RepositoryInventory,
): Map<Digest, Digest[]> {
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
