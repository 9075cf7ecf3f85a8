import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  assertLedgerAvailable,
  compilePolicy,
  parsePolicy,
  PolicyError,
  type Policy,
} from '../lambda/policy';
import { RegistryCleanerConfigError } from './errors';

/**
 * A retention policy for a `RegistryCleaner`: the path of a YAML or JSON policy file (relative
 * paths resolve against the working directory, i.e. where `cdk synth` runs), or the policy as an
 * object (the same shape as the file).
 */
export type PolicySource = string | Readonly<Record<string, unknown>>;

/**
 * The most bytes the policy's JSON may take. Lambda allows 4 KB for all environment variables of a
 * function together; the other regsweep variables (registry URL, secret ARN, queue URL, flags) and
 * the names take well under 600 bytes.
 */
export const MAX_POLICY_JSON_BYTES = 3_500;

/** A validated policy, and the JSON that the functions receive in `REGSWEEP_POLICY`. */
export interface LoadedPolicy {
  readonly policy: Policy;
  readonly json: string;
}

/** What synth says about a ledger field when the cleaner has no ledger table. */
export const NO_LEDGER_HINT = 'the RegistryCleaner has `ledger: false`; remove it to create the ledger table';

/**
 * Reads and validates the policy at synth time, so a bad policy fails `cdk synth` rather than the
 * deployed functions' cold start. With `hasLedger` false, a policy that uses a ledger feature
 * fails too, naming each field.
 *
 * @throws RegistryCleanerConfigError with one issue per problem, each naming the policy field
 *   (`policy (examples/policy.yaml): rules[0].tags: ...`)
 */
export function loadPolicy(source: PolicySource, options: { hasLedger: boolean }): LoadedPolicy {
  const label = typeof source === 'string' ? `policy (${source})` : 'policy';
  let policy: Policy;
  try {
    policy = typeof source === 'string' ? parsePolicy(readPolicyFile(source), source) : compilePolicy(source);
    // Without the table a policy that needs one would silently do less: it fails the synth.
    assertLedgerAvailable(policy, options.hasLedger, { hint: NO_LEDGER_HINT });
  } catch (error) {
    if (error instanceof PolicyError) {
      throw new RegistryCleanerConfigError(
        error.issues.map((issue) => `${label}: ${issue}`),
        { cause: error },
      );
    }
    throw error;
  }
  const json = JSON.stringify(policy.document);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > MAX_POLICY_JSON_BYTES) {
    throw new RegistryCleanerConfigError([
      `${label}: is ${bytes} bytes as JSON, more than the ${MAX_POLICY_JSON_BYTES} that fit in a Lambda ` +
        'environment (4 KB for all variables); use fewer or shorter rules',
    ]);
  }
  return { policy, json };
}

function readPolicyFile(file: string): string {
  try {
    return readFileSync(path.resolve(file), 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new RegistryCleanerConfigError([`policy: cannot read the file ${file} (${reason})`], {
      cause: error,
    });
  }
}
