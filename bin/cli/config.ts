import { readFileSync } from 'node:fs';
import { assertLedgerAvailable, parsePolicy, type Policy } from '../../lambda/policy';
import type { Credentials } from '../../lambda/registry';

/** A command-line mistake (missing option, unreadable file): exit code 2. */
export class UsageError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/**
 * Reads and validates a policy file (YAML or JSON). `hasLedger`: whether the command runs with a
 * ledger; when it does not, a policy using a ledger feature is refused, naming each field.
 */
export function loadPolicyFile(path: string | undefined, hasLedger: boolean): Policy {
  if (!path) throw new UsageError('missing --policy FILE');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read policy file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      {
        cause: error,
      },
    );
  }
  const policy = parsePolicy(text, path);
  // Without a ledger these fields would silently do nothing: refuse them before any request.
  assertLedgerAvailable(policy, hasLedger, { source: path });
  return policy;
}

/** The registry URL: `--registry`, else `REGSWEEP_REGISTRY`, else the policy's `registry`. */
export function registryUrl(flag: string | undefined, env: NodeJS.ProcessEnv, policy?: Policy): string {
  const url = flag ?? env.REGSWEEP_REGISTRY ?? policy?.document.registry;
  if (!url)
    throw new UsageError(
      'no registry: pass --registry URL, set REGSWEEP_REGISTRY, or set `registry` in the policy',
    );
  return url;
}

/** Credentials from `REGSWEEP_USERNAME` + `REGSWEEP_PASSWORD`, or `REGSWEEP_TOKEN`; none is anonymous. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): Credentials | undefined {
  const { REGSWEEP_USERNAME: username, REGSWEEP_PASSWORD: password, REGSWEEP_TOKEN: token } = env;
  if (username !== undefined || password !== undefined) {
    if (!username || !password)
      throw new UsageError('set both REGSWEEP_USERNAME and REGSWEEP_PASSWORD, or neither');
    return { username, password };
  }
  return token ? { token } : undefined;
}

/** Parses `--concurrency N` (1..64). */
export function parseConcurrency(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new UsageError(`--concurrency must be an integer from 1 to 64, got '${value}'`);
  return n;
}
