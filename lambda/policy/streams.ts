import semver, { type SemVer } from 'semver';
import { formatAge } from './duration';
import type { TagEntry } from './entry';
import type { CompiledRule } from './policy';

/**
 * Decides the candidates of one rule: groups them into streams by `groupBy` capture group 1,
 * orders each stream newest first, and removes a candidate when it is beyond `keep` (if set)
 * AND older than `olderThan` (if set).
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
    const ranked = streams.get(stream);
    if (ranked) ranked.push(entry);
    else streams.set(stream, [entry]);
  }
  for (const [stream, ranked] of streams) {
    ranked.sort(rule.order === 'semver' ? bySemverNewestFirst : byCreatedNewestFirst);
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
  const by = rule.order === 'semver' ? ' by semver' : '';
  if (rule.keep !== undefined && rank <= rule.keep) {
    keep(entry, rule, `newest ${rule.keep}${by}${stream} (#${rank})`);
    return;
  }
  const beyond = rule.keep !== undefined ? `beyond keep=${rule.keep}${stream} (#${rank})` : undefined;
  // Unknown-age tags rank first under `created`, so one beyond keep was ranked only by its name:
  // never a reason to remove it.
  const ageNeeded = rule.olderThanMs !== undefined || rule.order === 'created';
  if (ageNeeded && entry.createdMs === undefined) {
    keep(entry, rule, beyond ? `${beyond} but age unknown: never old` : 'age unknown: never old');
    return;
  }
  if (rule.olderThanMs === undefined) {
    remove(entry, rule, beyond as string);
    return;
  }
  const age = nowMs - (entry.createdMs as number);
  const olderThan = rule.document.olderThan as string;
  if (age > rule.olderThanMs) {
    remove(entry, rule, `${beyond ? `${beyond} and ` : ''}${formatAge(age)} old > ${olderThan}`);
  } else {
    const ageText = age < 0 ? `created ${formatAge(-age)} in the future` : `${formatAge(age)} old`;
    keep(entry, rule, `${beyond ? `${beyond} but ` : ''}younger than ${olderThan} (${ageText})`);
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
function byCreatedNewestFirst(a: TagEntry, b: TagEntry): number {
  const left = a.createdMs;
  const right = b.createdMs;
  if (left !== right) {
    if (left === undefined) return -1;
    if (right === undefined) return 1;
    return right - left;
  }
  return byTagNameDescending(a.tag, b.tag);
}

/** Highest version first; equal versions (`v1.2.3`, `1.2.3`) by age, then by tag name. */
function bySemverNewestFirst(a: TagEntry, b: TagEntry): number {
  return (b.version as SemVer).compare(a.version as SemVer) || byCreatedNewestFirst(a, b);
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
