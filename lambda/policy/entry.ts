import type { SemVer } from 'semver';
import type { Digest, TagRecord } from '../domain';
import { referrerSubject } from './matchers';

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
  /** For a cosign-style referrer tag, the digest it signs or attests. */
  public readonly subject: Digest | undefined;
  /** The next tag (by name) on the same digest: a list per digest without an array per digest. */
  public nextOnDigest: TagEntry | undefined = undefined;
  /** On the first tag of a digest only: the last one, where the next tag is appended. */
  public lastOnDigest: TagEntry | undefined = undefined;
  /** Parsed once, for rules with `order: semver`. */
  public version: SemVer | undefined = undefined;
  public intent: Intent | undefined = undefined;
  public rule: string | null = null;
  public reason = '';

  public constructor(public readonly record: TagRecord) {
    this.tag = record.tag;
    this.digest = record.digest;
    const time = record.created?.getTime();
    // NaN (an invalid Date) and the 1970 epoch of reproducible builds both mean "unknown".
    this.createdMs = time !== undefined && Number.isFinite(time) && time !== 0 ? time : undefined;
    this.subject = referrerSubject(record.tag);
  }

  public decide(intent: Intent, rule: string | null, reason: string): void {
    this.intent = intent;
    this.rule = rule;
    this.reason = reason;
  }
}
