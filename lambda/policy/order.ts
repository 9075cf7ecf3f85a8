import { formatAge } from './duration';
import type { TagEntry } from './entry';
import type { RuleOrder } from './schema';

/**
 * Compares tag names the way people read build numbers: runs of digits as numbers (`b-9` <
 * `b-10`, `2024.3.1-2` < `2024.3.10-1`), everything else by code unit; names equal that way
 * (`b-01`, `b-1`) by plain code-unit order. A total order: 0 only for equal names.
 *
 * A name is read as a list of runs, each all digits or all non-digits, compared run by run (a
 * name that runs out first is smaller). Two digit runs compare by value (leading zeros dropped,
 * then length, then digits: no overflow for long runs); any other pair compares as text. Since
 * a non-digit run never starts with a digit, a digit run sorts against it as its first digit
 * would, whatever its value: the comparison stays transitive.
 */
export function compareNatural(left: string, right: string): number {
  if (left === right) return 0;
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    const leftEnd = runEnd(left, i);
    const rightEnd = runEnd(right, j);
    const leftRun = left.slice(i, leftEnd);
    const rightRun = right.slice(j, rightEnd);
    const order =
      isDigit(left.charCodeAt(i)) && isDigit(right.charCodeAt(j))
        ? compareDigitRuns(leftRun, rightRun)
        : compareText(leftRun, rightRun);
    if (order !== 0) return order;
    i = leftEnd;
    j = rightEnd;
  }
  if (i < left.length) return 1;
  if (j < right.length) return -1;
  return compareText(left, right);
}

/**
 * How a candidate's age reads in a reason, saying where it came from:
 * - `created` under any order but `pushed`: `20d old` (`created 1d in the future`), as always;
 * - `pushed` under `order: pushed`: `pushed 20d ago`;
 * - `created` under `order: pushed` (the ledger never saw the tag pushed):
 *   `never seen pushed, created 20d ago`;
 * - `pushed` under any other order (the image's `created` is unknown):
 *   `created unknown, pushed 20d ago`.
 */
export function describeAge(entry: TagEntry, order: RuleOrder, nowMs: number): string {
  const age = nowMs - (entry.ageMs as number);
  const when = age < 0 ? `${formatAge(-age)} in the future` : `${formatAge(age)} ago`;
  if (entry.ageFrom === 'pushed')
    return order === 'pushed' ? `pushed ${when}` : `created unknown, pushed ${when}`;
  if (order === 'pushed') return `never seen pushed, created ${when}`;
  return age < 0 ? `created ${when}` : `${formatAge(age)} old`;
}

/** Whether a reason must say where the age came from: it is not the image's `created` as always. */
export function ageNeedsSource(entry: TagEntry, order: RuleOrder): boolean {
  return entry.ageMs !== undefined && (order === 'pushed' || entry.ageFrom === 'pushed');
}

/** ` by semver` etc.: how a reason names the order of a rule (`created` says nothing). */
export function orderLabel(order: RuleOrder): string {
  switch (order) {
    case 'semver':
      return ' by semver';
    case 'natural':
      return ' by natural order';
    case 'pushed':
      return ' by push time';
    default:
      return '';
  }
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** The end of the run (all digits, or all non-digits) that starts at `start`. */
function runEnd(text: string, start: number): number {
  const digits = isDigit(text.charCodeAt(start));
  let end = start + 1;
  while (end < text.length && isDigit(text.charCodeAt(end)) === digits) end += 1;
  return end;
}

function compareDigitRuns(left: string, right: string): number {
  const leftValue = left.replace(/^0+/, '');
  const rightValue = right.replace(/^0+/, '');
  if (leftValue.length !== rightValue.length) return leftValue.length - rightValue.length;
  return compareText(leftValue, rightValue);
}

/** Code-unit order: the same on every machine and locale, unlike localeCompare. */
function compareText(left: string, right: string): number {
  if (left === right) return 0;
  return left < right ? -1 : 1;
}
