import { DurationError } from './errors';

/** Milliseconds per duration unit: the only units a policy accepts. */
export const DURATION_UNIT_MS = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
} as const;

type DurationUnit = keyof typeof DURATION_UNIT_MS;

// One whole number and one unit: `1d12h` or `1.5d` are rejected rather than guessed at.
const DURATION_PATTERN = /^(\d+)([smhdw])$/;
const DURATION_HINT = 'use e.g. 30s, 15m, 12h, 14d, 2w';

/** Why `text` is not a duration, or undefined when it is one. */
export function durationProblem(text: unknown): string | undefined {
  if (typeof text !== 'string') return `expected a duration string (${DURATION_HINT})`;
  const match = DURATION_PATTERN.exec(text);
  if (!match) return `'${truncate(text)}' is not a duration (${DURATION_HINT})`;
  const milliseconds = Number(match[1]) * DURATION_UNIT_MS[match[2] as DurationUnit];
  if (!Number.isSafeInteger(milliseconds)) return `'${truncate(text)}' is too long a duration`;
  return undefined;
}

/**
 * Parses a policy duration (`30s`, `15m`, `12h`, `14d`, `2w`) into milliseconds.
 *
 * @throws DurationError when `text` is not one whole number followed by one of `s m h d w`.
 */
export function parseDuration(text: string): number {
  const problem = durationProblem(text);
  if (problem) throw new DurationError(problem);
  const match = DURATION_PATTERN.exec(text) as RegExpExecArray;
  return Number(match[1]) * DURATION_UNIT_MS[match[2] as DurationUnit];
}

/**
 * A short age for reasons: the largest whole unit (`20d`, `5h`, `3m`, `12s`), so that
 * "20d old > 14d" reads in the same units the policy is written in. Weeks are shown as days,
 * which are easier to compare at a glance.
 */
export function formatAge(milliseconds: number): string {
  if (milliseconds < 0) return `${formatAge(-milliseconds)} in the future`;
  for (const unit of ['d', 'h', 'm'] as const) {
    if (milliseconds >= DURATION_UNIT_MS[unit])
      return `${Math.floor(milliseconds / DURATION_UNIT_MS[unit])}${unit}`;
  }
  return `${Math.floor(milliseconds / DURATION_UNIT_MS.s)}s`;
}

function truncate(value: string, max = 32): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
