/**
 * How long before its deadline the worker stops starting removals, in milliseconds: one registry
 * request's timeout (30 s) for the removal already under way, plus the after-removal tag listing,
 * the log line and queueing the continuation. See {@link deadlineMarginMs} for short invocations.
 */
export const DEADLINE_MARGIN_MS = 40_000;

/**
 * The largest share of an invocation's time (as it was when the message was picked up) that the
 * margin may take, so that a worker with a short timeout still removes something each time.
 */
export const MAX_DEADLINE_MARGIN_SHARE = 0.25;

/**
 * The margin for an invocation that had `remainingAtStartMs` when it picked the message up:
 * {@link DEADLINE_MARGIN_MS}, or a quarter of that time when it is shorter (a 1-minute worker
 * stops 15 s before its deadline).
 */
export function deadlineMarginMs(remainingAtStartMs: number): number {
  const share = Math.floor(Math.max(0, remainingAtStartMs) * MAX_DEADLINE_MARGIN_SHARE);
  return Math.min(DEADLINE_MARGIN_MS, share);
}

/**
 * A `stopStarting` check for the engine: a reason once the remaining time (read from `remainingMs`,
 * the Lambda context's `getRemainingTimeInMillis`) is below `marginMs`.
 */
export function stopBeforeDeadline(remainingMs: () => number, marginMs: number): () => string | undefined {
  return () => {
    const remaining = remainingMs();
    return remaining < marginMs
      ? `${Math.max(0, Math.floor(remaining))} ms left before the Lambda deadline, under the ${marginMs} ms margin`
      : undefined;
  };
}
