/**
 * The SQLite ledger's schema, as ordered migrations. `PRAGMA user_version` holds the number of
 * migrations applied; opening a file applies the missing ones in order, each in its own
 * transaction, and refuses a file written by a newer regsweep. Append new migrations; never edit
 * one that has shipped.
 *
 * Times are INTEGER milliseconds since the epoch; lists and maps are JSON text.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: what the notifications said (the ledger).
  `
  CREATE TABLE manifests (
    repository TEXT NOT NULL,
    digest TEXT NOT NULL,
    media_type TEXT,
    size INTEGER,
    created INTEGER,
    children TEXT,
    subject TEXT,
    config_digest TEXT,
    blob_sizes TEXT,
    facts_recorded_at INTEGER,
    first_pushed_at INTEGER,
    last_pushed_at INTEGER,
    last_pulled_at INTEGER,
    gone_at INTEGER,
    PRIMARY KEY (repository, digest)
  ) WITHOUT ROWID;
  CREATE INDEX manifests_gone ON manifests (gone_at) WHERE gone_at IS NOT NULL;
  CREATE TABLE tags (
    repository TEXT NOT NULL,
    tag TEXT NOT NULL,
    digest TEXT NOT NULL,
    pushed_at INTEGER NOT NULL,
    PRIMARY KEY (repository, tag)
  ) WITHOUT ROWID;
  CREATE INDEX tags_digest ON tags (repository, digest);
  CREATE TABLE events (
    id TEXT PRIMARY KEY,
    seen_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE history (
    repository TEXT NOT NULL,
    key TEXT NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    digest TEXT,
    tag TEXT,
    event_id TEXT,
    run_id TEXT,
    reason TEXT,
    PRIMARY KEY (repository, key)
  ) WITHOUT ROWID;
  `,
  // 2: runs and their budgets; archived removals (reclaim).
  `
  CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    trigger TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    budget INTEGER,
    used INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  CREATE TABLE removals (
    run_id TEXT NOT NULL,
    repository TEXT NOT NULL,
    digest TEXT NOT NULL,
    tags TEXT NOT NULL,
    media_type TEXT NOT NULL,
    body BLOB NOT NULL,
    removed_at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (run_id, repository, digest)
  );
  CREATE INDEX removals_repository ON removals (repository, removed_at);
  CREATE INDEX removals_expiry ON removals (expires_at);
  `,
  // 3: the manifest body with its facts (a sweep archives from it).
  `
  ALTER TABLE manifests ADD COLUMN body BLOB;
  `,
  // 4: pending plans (the rest of a stopped worker's plan, for its continuation). A rowid table,
  // like removals: its rows hold large bodies.
  `
  CREATE TABLE pending_plans (
    id TEXT PRIMARY KEY,
    repository TEXT NOT NULL,
    body BLOB NOT NULL,
    saved_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX pending_plans_expiry ON pending_plans (expires_at);
  `,
];

/** The schema version this regsweep writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;
