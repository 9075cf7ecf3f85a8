/**
 * The ledger's error hierarchy. Every error keeps the store's own failure as `cause` and carries a
 * stable `code`; messages name the file or table and the operation, never a credential.
 */

/** Base class of every error raised by `lambda/ledger`. */
export class LedgerError extends Error {
  public readonly code: string;

  public constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The store cannot be opened or reached: the SQLite file cannot be opened (or better-sqlite3 is
 * not installed), DynamoDB refused or failed a request, or unprocessed batch items stayed
 * unprocessed after every retry. Nothing is known about the operation's effect beyond its
 * idempotence: every ledger write may be repeated safely.
 */
export class LedgerUnavailableError extends LedgerError {
  public constructor(message: string, options?: { cause?: unknown }) {
    super('LEDGER_UNAVAILABLE', message, options);
  }
}

/** The SQLite file's schema is newer than this regsweep knows, or a migration failed. */
export class LedgerSchemaError extends LedgerError {
  public constructor(message: string, options?: { cause?: unknown }) {
    super('LEDGER_SCHEMA', message, options);
  }
}

/** `reserveBudget` or a removal named a run the ledger has no record of. */
export class LedgerRunNotFoundError extends LedgerError {
  public constructor(public readonly runId: string) {
    super('LEDGER_RUN_NOT_FOUND', `the ledger has no run '${runId}'`);
  }
}

/** `createRun` named a run that already exists: a run is created once, by the sweep that starts it. */
export class LedgerRunExistsError extends LedgerError {
  public constructor(public readonly runId: string) {
    super('LEDGER_RUN_EXISTS', `the ledger already has a run '${runId}'`);
  }
}

/** An argument the store cannot record (a malformed digest, a negative budget, an oversized body). */
export class LedgerInputError extends LedgerError {
  public constructor(message: string) {
    super('LEDGER_INPUT_INVALID', message);
  }
}
