import * as z from 'zod/mini';
import { InvalidRegistryUrlError, registryOrigin, registryUrlProblem } from '../domain';
import { assertLedgerAvailable, compilePolicy, PolicyError, type Policy } from '../policy';

/** A missing or invalid environment variable: the function cannot start (one clear error). */
export class ConfigurationError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigurationError';
  }
}

/** The Lambda functions' configuration, parsed once at cold start (DESIGN.md, "Lambda contract"). */
export interface LambdaEnvironment {
  readonly registry: string;
  readonly policy: Policy;
  readonly secretArn: string;
  /** Present for the webhook and sweep functions (they enqueue). */
  readonly queueUrl?: string;
  readonly dryRun: boolean;
  /** The ledger's DynamoDB table; absent: no ledger (a policy that needs one is refused). */
  readonly ledgerTable?: string;
}

/**
 * What a function without `REGSWEEP_LEDGER_TABLE` says about a policy that needs a ledger: the
 * variable, and the construct prop that creates the table.
 */
export const LEDGER_TABLE_HINT =
  'set REGSWEEP_LEDGER_TABLE (the RegistryCleaner construct sets it unless its prop `ledger` is false)';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** The registry base URL, by the same rule the client and the policy's `registry:` follow. */
const registryUrl = z.string('required').check((ctx) => {
  const problem = registryUrlProblem(ctx.value);
  if (problem) {
    const message = new InvalidRegistryUrlError(problem.reason).message;
    ctx.issues.push({ code: 'custom', message, input: ctx.value });
  }
});

const Schema = z.object({
  REGSWEEP_REGISTRY: registryUrl,
  REGSWEEP_POLICY: z.string('required').check(z.minLength(1, 'required')),
  REGSWEEP_SECRET_ARN: z
    .string('required')
    .check(z.regex(/^arn:aws[a-z-]*:secretsmanager:/, 'must be a Secrets Manager ARN')),
  REGSWEEP_QUEUE_URL: z.optional(httpUrl),
  REGSWEEP_DRY_RUN: z._default(z.enum(['true', 'false'], "must be 'true' or 'false'"), 'false'),
  // DynamoDB's table-name rule: 3 to 255 of letters, digits, '_', '-' and '.'.
  REGSWEEP_LEDGER_TABLE: z.optional(
    z
      .string()
      .check(
        z.regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ - .)'),
      ),
  ),
});

/**
 * Reads and validates the environment. Every problem is reported at once, each naming its
 * variable; values are never echoed (the policy can be long, and none of this is a secret, but a
 * misplaced secret would be).
 */
export function readEnvironment(
  env: Record<string, string | undefined>,
  options: { requireQueue: boolean },
): LambdaEnvironment {
  const parsed = Schema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  if (options.requireQueue && !env.REGSWEEP_QUEUE_URL) problems.push('REGSWEEP_QUEUE_URL: required');
  if (!parsed.success || problems.length > 0) {
    throw new ConfigurationError(`invalid regsweep configuration:\n  ${problems.join('\n  ')}`);
  }
  const values = parsed.data;
  let policy: Policy;
  try {
    policy = compilePolicy(JSON.parse(values.REGSWEEP_POLICY));
    // Without a ledger table a policy that needs one would silently do less: refused here.
    assertLedgerAvailable(policy, values.REGSWEEP_LEDGER_TABLE !== undefined, { hint: LEDGER_TABLE_HINT });
  } catch (error) {
    const detail =
      error instanceof PolicyError
        ? error.issues.join('; ')
        : error instanceof SyntaxError
          ? 'not valid JSON'
          : String(error);
    throw new ConfigurationError(`invalid regsweep configuration:\n  REGSWEEP_POLICY: ${detail}`, {
      cause: error,
    });
  }
  return {
    registry: registryOrigin(values.REGSWEEP_REGISTRY),
    policy,
    secretArn: values.REGSWEEP_SECRET_ARN,
    ...(values.REGSWEEP_QUEUE_URL && { queueUrl: values.REGSWEEP_QUEUE_URL }),
    dryRun: values.REGSWEEP_DRY_RUN === 'true',
    ...(values.REGSWEEP_LEDGER_TABLE && { ledgerTable: values.REGSWEEP_LEDGER_TABLE }),
  };
}
