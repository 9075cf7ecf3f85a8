/**
 * A policy that cannot be used: bad YAML, an unknown key, a bad regex, glob or duration. Thrown
 * at load time, before any request is made; the CLI turns it into exit code 2, `cdk synth` into
 * a failed synth.
 *
 * `issues` holds one line per problem, each naming the field (`rules[1].tags: ...`), so that
 * one run reports every problem of a policy file rather than the first only.
 */
export class PolicyError extends Error {
  public readonly code: string = 'POLICY_INVALID';
  /** One human line per problem, e.g. `rules[0].keep: expected a non-negative integer`. */
  public readonly issues: string[];
  /** Where the policy came from (a file name), when known. */
  public readonly source?: string;

  public constructor(issues: readonly string[], options: { source?: string; cause?: unknown } = {}) {
    const prefix = options.source ? `${options.source}: ` : '';
    super(issues.map((issue) => `${prefix}${issue}`).join('\n'), { cause: options.cause });
    this.name = 'PolicyError';
    this.issues = [...issues];
    if (options.source !== undefined) this.source = options.source;
  }
}

/** The policy text is not valid YAML/JSON (or is empty); issues carry line and column. */
export class PolicySyntaxError extends PolicyError {
  public override readonly code = 'POLICY_SYNTAX';

  public constructor(issues: readonly string[], options: { source?: string; cause?: unknown } = {}) {
    super(issues, options);
    this.name = 'PolicySyntaxError';
  }
}

/** A duration string such as `14d` could not be parsed. */
export class DurationError extends PolicyError {
  public override readonly code = 'DURATION_INVALID';

  public constructor(issue: string) {
    super([issue]);
    this.name = 'DurationError';
  }
}
