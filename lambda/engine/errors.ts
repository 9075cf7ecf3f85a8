/** Base class of the engine's own errors (registry and policy errors pass through unchanged). */
export class EngineError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
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
