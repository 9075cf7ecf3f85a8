import semver, { type SemVer } from 'semver';
import { formatAge } from './duration';
import type { TagEntry } from './entry';
import { ageNeedsSource, compareNatural, describeAge, orderLabel } from './order';
import type { CompiledRule } from './policy';

/**
 * Decides the candidates of one rule: groups them into streams by `groupBy` capture group 1,
 * orders each stream newest first, and removes a candidate when it is beyond `keep` (if set)
 * AND older than `olderThan` (if set), unless its digest was pulled within `keepPulledWithin`.
 *
 * A candidate kept by a recent pull keeps its place in the ranking: `keep` still counts the
 * newest N by the rule's order, so a pulled old build stays in addition to them and never pushes
 * a newer build out.
 */
export function decideCandidates(rule: CompiledRule, candidates: readonly TagEntry[], nowMs: number): void {
  if (rule.keep === undefined && rule.olderThanMs === undefined) {
    for (const entry of candidates) keep(entry, rule, 'rule sets neither keep nor olderThan');
    return;
  }
  const streams = new Map<string, TagEntry[]>();
  for (const entry of candidates) {
    let stream = '';
    if (rule.groupBy) {
      const match = rule.groupBy.exec(entry.tag);
      if (!match) {
        keep(entry, rule, 'does not match groupBy: in no stream');
        continue;
      }
      stream = match[1] ?? '';
    }
    if (rule.order === 'semver') {
      entry.version = parseVersion(entry.tag);
      if (!entry.version) {
        keep(entry, rule, 'not a semver version');
        continue;
      }
    }
    setAge(entry, rule);
    const ranked = streams.get(stream);
    if (ranked) ranked.push(entry);
    else streams.set(stream, [entry]);
  }
  for (const [stream, ranked] of streams) {
    ranked.sort(newestFirst(rule));
    const label = rule.groupBy ? ` in stream '${stream}'` : '';
    ranked.forEach((entry, index) => decideRanked(entry, rule, index + 1, label, nowMs));
  }
}

function decideRanked(
  entry: TagEntry,
  rule: CompiledRule,
  rank: number,
  stream: string,
  nowMs: number,
): void {
  const rankedByAge = rule.order === 'created' || rule.order === 'pushed';
  // Where the age came from, when it is not the image's `created` as it always was.
  const source =
    rankedByAge && ageNeedsSource(entry, rule.order) ? `, ${describeAge(entry, rule.order, nowMs)}` : '';
  if (rule.keep !== undefined && rank <= rule.keep) {
    keep(entry, rule, `newest ${rule.keep}${orderLabel(rule.order)}${stream} (#${rank}${source})`);
    return;
  }
  // With olderThan the age is said once, in the comparison.
  const rankSource = rule.olderThanMs === undefined ? source : '';
  const beyond =
    rule.keep !== undefined ? `beyond keep=${rule.keep}${stream} (#${rank}${rankSource})` : undefined;
  // Unknown-age tags rank first when ranked by age, so one beyond keep was ranked only by its
  // name: never a reason to remove it.
  const ageNeeded = rule.olderThanMs !== undefined || rankedByAge;
  if (ageNeeded && entry.ageMs === undefined) {
    const unknown = rule.order === 'pushed' ? 'never seen pushed and age unknown' : 'age unknown';
    keep(entry, rule, beyond ? `${beyond} but ${unknown}: never old` : `${unknown}: never old`);
    return;
  }
  if (rule.olderThanMs === undefined) {
    removeUnlessPulled(entry, rule, beyond as string, nowMs);
    return;
  }
  const age = nowMs - (entry.ageMs as number);
  const olderThan = rule.document.olderThan as string;
  const ageText = describeAge(entry, rule.order, nowMs);
  if (age > rule.olderThanMs) {
    removeUnlessPulled(entry, rule, `${beyond ? `${beyond} and ` : ''}${ageText} > ${olderThan}`, nowMs);
  } else {
    keep(entry, rule, `${beyond ? `${beyond} but ` : ''}younger than ${olderThan} (${ageText})`);
  }
}

/**
 * Removes the candidate unless the rule has `keepPulledWithin` and the ledger saw its digest
 * pulled within it (a pull time in the future, from a skewed clock, counts as recent).
 */
function removeUnlessPulled(entry: TagEntry, rule: CompiledRule, reason: string, nowMs: number): void {
  if (rule.keepPulledWithinMs !== undefined && entry.pulledMs !== undefined) {
    const sincePull = nowMs - entry.pulledMs;
    if (sincePull <= rule.keepPulledWithinMs) {
      const when = sincePull < 0 ? `${formatAge(-sincePull)} in the future` : `${formatAge(sincePull)} ago`;
      const within = rule.document.keepPulledWithin as string;
      keep(entry, rule, `pulled ${when} (within keepPulledWithin ${within}), although ${reason}`);
      return;
    }
  }
  remove(entry, rule, reason);
}

/**
 * The age the rule ranks by and compares with `olderThan`: `order: pushed` takes the ledger's
 * push time, else the image's `created`; any other order the other way round (an unknown
 * `created`, such as the 1970 of reproducible builds, falls back to the push time).
 */
function setAge(entry: TagEntry, rule: CompiledRule): void {
  const pushedFirst = rule.order === 'pushed';
  const first = pushedFirst ? entry.pushedMs : entry.createdMs;
  const second = pushedFirst ? entry.createdMs : entry.pushedMs;
  if (first !== undefined) {
    entry.ageMs = first;
    entry.ageFrom = pushedFirst ? 'pushed' : 'created';
  } else if (second !== undefined) {
    entry.ageMs = second;
    entry.ageFrom = pushedFirst ? 'created' : 'pushed';
  }
}

function newestFirst(rule: CompiledRule): (a: TagEntry, b: TagEntry) => number {
  switch (rule.order) {
    case 'semver':
      return bySemverNewestFirst;
    case 'natural':
      return byNaturalNewestFirst;
    default:
      return byAgeNewestFirst;
  }
}

/**
 * A tag as a semantic version: `1.2.3`, `v1.2.3`, `1.2.3-rc.1`. Partial versions (`1.2`, `v3`)
 * are not coerced: they are usually floating aliases of the newest patch, and ranking `1.2` as
 * 1.2.0 would remove them.
 */
function parseVersion(tag: string): SemVer | undefined {
  return semver.parse(tag, { loose: true }) ?? undefined;
}

/** Newest first; unknown ages count as newest; ties by tag name, later names first. */
function byAgeNewestFirst(a: TagEntry, b: TagEntry): number {
  const left = a.ageMs;
  const right = b.ageMs;
  if (left !== right) {
    if (left === undefined) return -1;
    if (right === undefined) return 1;
    return right - left;
  }
  return byTagNameDescending(a.tag, b.tag);
}

/** Highest version first; equal versions (`v1.2.3`, `1.2.3`) by age, then by tag name. */
function bySemverNewestFirst(a: TagEntry, b: TagEntry): number {
  return (b.version as SemVer).compare(a.version as SemVer) || byAgeNewestFirst(a, b);
}

/** The greatest name in natural order first (see compareNatural). */
function byNaturalNewestFirst(a: TagEntry, b: TagEntry): number {
  return compareNatural(b.tag, a.tag);
}

function byTagNameDescending(left: string, right: string): number {
  if (left === right) return 0;
  return left < right ? 1 : -1;
}

function keep(entry: TagEntry, rule: CompiledRule, reason: string): void {
  entry.decide('keep', rule.name, reason);
}

function remove(entry: TagEntry, rule: CompiledRule, reason: string): void {
  entry.decide('remove', rule.name, reason);
}
