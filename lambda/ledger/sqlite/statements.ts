import type BetterSqlite3 from 'better-sqlite3';

/**
 * Every statement the SQLite store runs, prepared once when the store opens. Named parameters
 * (`@name`) match the objects the store passes.
 */
export const SQL = {
  markEvent: `INSERT OR IGNORE INTO events (id, seen_at) VALUES (@id, @seenAt)`,
  // first/last push: the earliest and the newest push seen, whatever order events arrive in; a
  // push at or after the delete that removed the manifest brings it back.
  push: `
    INSERT INTO manifests (repository, digest, media_type, size, first_pushed_at, last_pushed_at)
    VALUES (@repository, @digest, @mediaType, @size, @at, @at)
    ON CONFLICT (repository, digest) DO UPDATE SET
      media_type = coalesce(media_type, excluded.media_type),
      size = coalesce(size, excluded.size),
      first_pushed_at = min(coalesce(first_pushed_at, excluded.first_pushed_at), excluded.first_pushed_at),
      last_pushed_at = max(coalesce(last_pushed_at, excluded.last_pushed_at), excluded.last_pushed_at),
      gone_at = CASE WHEN gone_at <= excluded.last_pushed_at THEN NULL ELSE gone_at END`,
  pushTag: `
    INSERT INTO tags (repository, tag, digest, pushed_at) VALUES (@repository, @tag, @digest, @at)
    ON CONFLICT (repository, tag) DO UPDATE SET digest = excluded.digest, pushed_at = excluded.pushed_at
    WHERE excluded.pushed_at >= tags.pushed_at`,
  // The hourly condition is the WHERE of the upsert: no change means throttled.
  pull: `
    INSERT INTO manifests (repository, digest, media_type, size, last_pulled_at)
    VALUES (@repository, @digest, @mediaType, @size, @at)
    ON CONFLICT (repository, digest) DO UPDATE SET
      last_pulled_at = excluded.last_pulled_at,
      media_type = coalesce(media_type, excluded.media_type),
      size = coalesce(size, excluded.size)
    WHERE last_pulled_at IS NULL OR last_pulled_at <= excluded.last_pulled_at - @interval`,
  markGone: `
    UPDATE manifests SET gone_at = @at
    WHERE repository = @repository AND digest = @digest AND gone_at IS NULL
      AND (last_pushed_at IS NULL OR last_pushed_at <= @at)`,
  deleteTagsOfDigest: `DELETE FROM tags WHERE repository = @repository AND digest = @digest AND pushed_at <= @at`,
  deleteTag: `DELETE FROM tags WHERE repository = @repository AND tag = @tag AND pushed_at <= @at`,
  insertHistory: `
    INSERT OR IGNORE INTO history (repository, key, at, kind, digest, tag, event_id, run_id, reason)
    VALUES (@repository, @key, @at, @kind, @digest, @tag, @eventId, @runId, @reason)`,
  history: `
    SELECT repository, at, kind, digest, tag, event_id, run_id, reason FROM history
    WHERE repository = @repository AND (@tag IS NULL OR tag = @tag) AND (@digest IS NULL OR digest = @digest)
    ORDER BY key DESC LIMIT @limit`,
  putFacts: `
    INSERT INTO manifests (repository, digest, media_type, size, created, children, subject, config_digest,
      blob_sizes, body, facts_recorded_at)
    VALUES (@repository, @digest, @mediaType, @size, @created, @children, @subject, @configDigest, @blobSizes,
      @body, @recordedAt)
    ON CONFLICT (repository, digest) DO UPDATE SET
      media_type = excluded.media_type, size = excluded.size, created = excluded.created,
      children = excluded.children, subject = excluded.subject, config_digest = excluded.config_digest,
      blob_sizes = excluded.blob_sizes, body = excluded.body, facts_recorded_at = excluded.facts_recorded_at`,
  getManifests: `
    SELECT * FROM manifests
    WHERE repository = @repository AND digest IN (SELECT value FROM json_each(@digests))`,
  listManifests: `SELECT * FROM manifests WHERE repository = @repository AND gone_at IS NULL ORDER BY digest`,
  listTags: `SELECT * FROM tags WHERE repository = @repository ORDER BY tag`,
  getTag: `SELECT * FROM tags WHERE repository = @repository AND tag = @tag`,
  pruneGoneManifests: `DELETE FROM manifests WHERE gone_at <= @before`,
  createRun: `
    INSERT OR IGNORE INTO runs (run_id, trigger, started_at, budget, used)
    VALUES (@runId, @trigger, @startedAt, @budget, 0)`,
  reserve: `
    UPDATE runs SET used = used + @count
    WHERE run_id = @runId AND (budget IS NULL OR used + @count <= budget)`,
  getRun: `SELECT * FROM runs WHERE run_id = @runId`,
  archive: `
    INSERT OR REPLACE INTO removals (run_id, repository, digest, tags, media_type, body, removed_at, reason,
      expires_at)
    VALUES (@runId, @repository, @digest, @tags, @mediaType, @body, @removedAt, @reason, @expiresAt)`,
  listRemovals: `
    SELECT * FROM removals WHERE run_id = @runId AND expires_at > @now ORDER BY repository, digest`,
  latestRemovalOfTag: `
    SELECT * FROM removals
    WHERE repository = @repository AND expires_at > @now
      AND EXISTS (SELECT 1 FROM json_each(removals.tags) WHERE value = @tag)
    ORDER BY removed_at DESC LIMIT 1`,
  pruneRemovals: `DELETE FROM removals WHERE expires_at <= @now`,
  // REPLACE deletes the old row and inserts the new one: nothing of an earlier save survives.
  savePendingPlan: `
    INSERT OR REPLACE INTO pending_plans (id, repository, body, saved_at, expires_at)
    VALUES (@id, @repository, @body, @savedAt, @expiresAt)`,
  getPendingPlan: `SELECT * FROM pending_plans WHERE id = @id AND expires_at > @now`,
  prunePendingPlans: `DELETE FROM pending_plans WHERE expires_at <= @now`,
} as const;

/** The prepared statements, by name. */
export type Statements = { [K in keyof typeof SQL]: BetterSqlite3.Statement };
