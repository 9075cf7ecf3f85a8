import type { SemVer } from 'semver';
import type { Digest, TagRecord } from '../domain';
import { referrerSubject } from './matchers';

/**
 * A time from the inventory as epoch milliseconds, or undefined when unknown: absent, an invalid
 * Date (NaN), or the 1970 epoch (reproducible builds; a ledger never records it either).
 */
export function knownTime(date: Date | undefined): number | undefined {
  const time = date?.getTime();
  return time !== undefined && Number.isFinite(time) && time !== 0 ? time : undefined;
}

/** Where a candidate's age came from: the image's `created`, or the ledger's last push. */
export type AgeSource = 'created' | 'pushed';

/** What the rules (or protect, or a referrer's subject) decided, before digest safety. */
export type Intent = 'keep' | 'remove';

/**
 * One tag while it is planned: the values the planner needs, computed once, and the decision.
 * A class with every field set in the constructor, so that a million of them share one shape
 * and no per-decision objects are allocated.
 */
export class TagEntry {
  public readonly tag: string;
  public readonly digest: Digest;
  /** Epoch milliseconds, or undefined when the age is unknown. */
  public readonly createdMs: number | undefined;
  /** The ledger's last push of the tag, epoch milliseconds; undefined when unknown. */
  public readonly pushedMs: number | undefined;
  /** The ledger's last client pull of the digest, epoch milliseconds; undefined when unknown. */
  public readonly pulledMs: number | undefined;
  /**
   * For a referrer tag (`sha256-<hex>`, `sha256-<hex>.sig|.att|.sbom`) or a tag on an artifact
   * whose manifest has a `subject`: the digest it belongs to. Such a tag follows its subject.
   */
  public readonly subject: Digest | undefined;
  /**
   * The subject comes only from a listing (a referrer index, the referrers API), not from the
   * tag's own name or manifest: never enough to make the tag an orphan.
   */
  public readonly subjectListedOnly: boolean;
  /**
   * The tags of a digest form a list in name order: `headOnDigest` is its first tag,
   * `nextOnDigest` the next one. Per-digest state lives on the head, so that after the one
   * lookup that builds the lists no map keyed by digest is consulted per tag (with a million
   * tags such lookups dominate the run time).
   */
  public headOnDigest: TagEntry = this;
  public nextOnDigest: TagEntry | undefined = undefined;
  /** On the head only: the last tag of the list, where the next one is appended. */
  public lastOnDigest: TagEntry = this;
  /** On the head only: a kept tag on the digest, null when none, undefined until known. */
  public keeperOnDigest: TagEntry | null | undefined = undefined;
  /** On the head only: the digest's keeper is being worked out (to end referrer loops). */
  public resolvingDigest = false;
  /** Parsed once, for rules with `order: semver`. */
  public version: SemVer | undefined = undefined;
  /**
   * Set by the deciding rule: the age it ranks by (`order: created | pushed`) and applies
   * `olderThan` to, epoch milliseconds, and where it came from. `order: pushed` takes the push
   * time first, every other order the image's `created` first; each falls back to the other.
   */
  public ageMs: number | undefined = undefined;
  public ageFrom: AgeSource | undefined = undefined;
  public intent: Intent | undefined = undefined;
  public rule: string | null = null;
  public reason = '';

  /** `knownSubject`: the subject the inventory knows for this tag's digest (a referrer index, the API). */
  public constructor(
    public readonly record: TagRecord,
    knownSubject?: Digest,
  ) {
    this.tag = record.tag;
    this.digest = record.digest;
    // NaN (an invalid Date) and the 1970 epoch of reproducible builds both mean "unknown".
    this.createdMs = knownTime(record.created);
    this.pushedMs = knownTime(record.pushedAt);
    this.pulledMs = knownTime(record.pulledAt);
    const ownSubject = referrerSubject(record.tag) ?? record.subject;
    this.subject = ownSubject ?? knownSubject;
    this.subjectListedOnly = ownSubject === undefined && knownSubject !== undefined;
  }

  public decide(intent: Intent, rule: string | null, reason: string): void {
    this.intent = intent;
    this.rule = rule;
    this.reason = reason;
  }
}
