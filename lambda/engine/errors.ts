import type { Plan } from '../domain';

/** Base class of the engine's own errors (registry and policy errors pass through unchanged). */
export class EngineError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A sweep stopped by a fatal registry error (unreachable, credentials refused) after it had
 * removed something. `plan` carries every result so far; removals that did not finish are
 * `failed`. Running the sweep again finishes the work.
 */
export class SweepInterruptedError extends EngineError {
  public constructor(
    cause: unknown,
    public readonly plan: Plan,
    public readonly removed: number,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `the sweep stopped after ${removed} ${removed === 1 ? 'removal' : 'removals'}: ${reason}; ` +
        `${plan.summary.failed} planned ${plan.summary.failed === 1 ? 'removal did' : 'removals did'} not finish. ` +
        'Run the sweep again to finish.',
      { cause },
    );
  }
}

/**
 * The plan would remove more tags than `limits.maxDeletesPerRun` allows: nothing was removed.
 * A guard against a policy typo (or an unexpected registry state) wiping a registry.
 */
export class DeleteLimitExceededError extends EngineError {
  public constructor(
    public readonly planned: number,
    public readonly limit: number,
  ) {
    super(
      `the plan removes ${planned} tags, more than limits.maxDeletesPerRun (${limit}): nothing was removed. ` +
        'Review the plan (regsweep plan), then raise the limit or narrow the policy.',
    );
  }
}
