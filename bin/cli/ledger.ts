import { SqliteLedgerStore, type LedgerStore } from '../../lambda/ledger';

/** The ledger file `serve` records into when neither `--ledger` nor `$REGSWEEP_LEDGER` names one. */
export const SERVE_DEFAULT_LEDGER = './regsweep-ledger.db';

/**
 * The ledger file a command uses: `--ledger FILE`, else `$REGSWEEP_LEDGER`, else `fallback`
 * (`serve` records by default; `plan` and `sweep` use no ledger unless told).
 */
export function ledgerFile(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  fallback?: string,
): string | undefined {
  const file = flag ?? (env.REGSWEEP_LEDGER || undefined) ?? fallback;
  return file === '' ? undefined : file;
}

/**
 * Opens the SQLite ledger at `file` (created when absent, its schema migrated). Errors are
 * `LedgerError`s that name the file; the CLI reports them with exit 2 (nothing was done).
 */
export function openLedger(file: string): LedgerStore {
  return new SqliteLedgerStore({ file });
}
