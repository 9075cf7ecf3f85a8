/** What the retry loop needs to know about waiting. */
export interface BackoffSettings {
  /** The first retry waits up to this long (full jitter: anywhere between 0 and it). */
  readonly minDelayMs: number;
  /** No computed wait exceeds this. */
  readonly maxDelayMs: number;
}

/** The longest `Retry-After` regsweep honours; a registry asking for more gets this much. */
export const MAX_RETRY_AFTER_MS = 30_000;

/**
 * Parses `Retry-After`: delta-seconds or an HTTP date (RFC 9110 §10.2.3), as milliseconds from
 * `now`, capped at {@link MAX_RETRY_AFTER_MS}. Undefined when absent or unparsable; 0 for a past date.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number = Date.now(),
): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return undefined;
  let delayMs: number;
  if (/^\d+$/.test(raw)) {
    delayMs = Number(raw) * 1000;
  } else {
    // An HTTP date always names its month; V8 would otherwise read "-1" as a year.
    const at = /[A-Za-z]{3}/.test(raw) ? Date.parse(raw) : Number.NaN;
    if (Number.isNaN(at)) return undefined;
    delayMs = Math.max(0, at - now);
  }
  return Math.min(delayMs, MAX_RETRY_AFTER_MS);
}

/**
 * The wait before retry number `attempt` (0-based): "full jitter" (uniform in
 * [0, min(max, min * 2^attempt)]), so that many clients hitting one overloaded registry spread
 * out instead of retrying in lockstep. A `Retry-After` from the server is a floor.
 */
export function backoffDelayMs(
  attempt: number,
  settings: BackoffSettings,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(settings.maxDelayMs, settings.minDelayMs * 2 ** attempt);
  const jittered = Math.floor(random() * ceiling);
  return retryAfterMs === undefined ? jittered : Math.max(jittered, retryAfterMs);
}
