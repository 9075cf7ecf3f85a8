import type BetterSqlite3 from 'better-sqlite3';

import { LedgerSchemaError, LedgerUnavailableError } from '../errors';
import { MIGRATIONS, SCHEMA_VERSION } from './schema';

type DatabaseConstructor = typeof BetterSqlite3;

/**
 * better-sqlite3, loaded on first use: it is a native module, and only a CLI or `serve` with a
 * ledger file needs it (the Lambdas and `plan` without `--ledger` import this package too).
 */
export function loadBetterSqlite3(): DatabaseConstructor {
  try {
    // A require() in the function, not an import: importing the ledger must not load the addon.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('better-sqlite3') as DatabaseConstructor;
  } catch (error) {
    throw new LedgerUnavailableError(
      `the SQLite ledger needs the better-sqlite3 module, which cannot be loaded: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * Opens (or takes) a database, sets WAL and the busy timeout, and brings its schema up to
 * {@link SCHEMA_VERSION}. Errors name the file.
 */
export function openLedgerDatabase(
  source:
    { readonly file: string; readonly busyTimeoutMs: number } | { readonly database: BetterSqlite3.Database },
): BetterSqlite3.Database {
  const file = 'file' in source ? source.file : source.database.name;
  let database: BetterSqlite3.Database;
  if ('file' in source) {
    const Database = loadBetterSqlite3();
    try {
      database = new Database(source.file, { timeout: source.busyTimeoutMs });
    } catch (error) {
      throw new LedgerUnavailableError(`cannot open the ledger file '${file}': ${(error as Error).message}`, {
        cause: error,
      });
    }
  } else {
    database = source.database;
  }
  try {
    // WAL: `serve` writes while a CLI reads. The default synchronous=FULL keeps each commit durable.
    database.pragma('journal_mode = WAL');
    migrate(database, file);
    return database;
  } catch (error) {
    if ('file' in source) database.close();
    if (error instanceof LedgerSchemaError) throw error;
    throw new LedgerUnavailableError(`cannot open the ledger file '${file}': ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Applies the migrations the file lacks, in order, each with its version bump in one transaction. */
export function migrate(database: BetterSqlite3.Database, file: string): void {
  const version = database.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new LedgerSchemaError(
      `the ledger file '${file}' has schema version ${version}, newer than this regsweep's ` +
        `${SCHEMA_VERSION}: upgrade regsweep, or use another file`,
    );
  }
  for (let next = version + 1; next <= SCHEMA_VERSION; next += 1) {
    try {
      database.transaction(() => {
        database.exec(MIGRATIONS[next - 1] as string);
        database.pragma(`user_version = ${next}`);
      })();
    } catch (error) {
      throw new LedgerSchemaError(
        `the ledger file '${file}' could not be migrated to schema version ${next}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}
