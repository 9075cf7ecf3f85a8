import { InvalidReferenceError } from '../../lambda/domain';
import { DeleteLimitExceededError, NotFoundError, RemovalRefusedError } from '../../lambda/engine';
import { LedgerError } from '../../lambda/ledger';
import { PolicyError } from '../../lambda/policy';
import {
  AuthenticationError,
  DeletionDisabledError,
  InvalidRegistryUrlError,
  RegistryError,
  RegistryUnreachableError,
} from '../../lambda/registry';
import { UsageError } from './config';

/** Exit codes of the CLI contract (DESIGN.md). */
export const ExitCode = {
  Done: 0,
  RemovalsFailed: 1,
  /** Usage, policy, auth or registry-configuration error: nothing was removed. */
  Refused: 2,
} as const;

/** Errors that mean "nothing was removed, fix the setup": exit 2. */
function isSetupError(error: unknown): boolean {
  return (
    error instanceof UsageError ||
    error instanceof PolicyError ||
    error instanceof InvalidReferenceError ||
    error instanceof InvalidRegistryUrlError ||
    error instanceof AuthenticationError ||
    error instanceof DeletionDisabledError ||
    error instanceof RegistryUnreachableError ||
    error instanceof DeleteLimitExceededError ||
    error instanceof NotFoundError ||
    error instanceof RemovalRefusedError ||
    // The ledger file could not be opened (or is newer than this regsweep): nothing was done.
    error instanceof LedgerError
  );
}

/** The message a user sees for an error, with a hint where one helps. */
export function describeError(error: unknown): string {
  if (error instanceof PolicyError) return `invalid policy:\n  ${error.issues.join('\n  ')}`;
  if (error instanceof AuthenticationError) {
    return `${error.message}\n  (credentials come from REGSWEEP_USERNAME + REGSWEEP_PASSWORD, or REGSWEEP_TOKEN)`;
  }
  if (error instanceof RegistryError || error instanceof Error) return error.message;
  return String(error);
}

/** Prints the error to stderr and returns the exit code it maps to. */
export function reportError(error: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  stderr.write(`regsweep: ${describeError(error)}\n`);
  return isSetupError(error) ? ExitCode.Refused : ExitCode.RemovalsFailed;
}
