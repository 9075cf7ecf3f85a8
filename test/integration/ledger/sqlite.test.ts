import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import Database from 'better-sqlite3';

import { sha256Digest } from '../../../lambda/domain';
import {
  ARCHIVE_RETENTION_MS,
  LedgerSchemaError,
  LedgerUnavailableError,
  PENDING_PLAN_RETENTION_MS,
  SQLITE_SCHEMA_VERSION,
  SqliteLedgerStore,
} from '../../../lambda/ledger';
import { MIGRATIONS } from '../../../lambda/ledger/sqlite/schema';
import { makeTempDir, removeTempDir } from '../../../tools/exit-cleanup';
import { describeLedgerContract, TestClock } from './contract';

let directory: string;
let files = 0;
const newFile = () => join(directory, `ledger-${(files += 1)}.db`);

beforeAll(() => {
  directory = makeTempDir('regsweep-ledger-sqlite-');
});

afterAll(async () => {
  await removeTempDir(directory);
});

describeLedgerContract('SQLite', () => ({
  open: async (options) => new SqliteLedgerStore({ file: newFile(), ...options }),
}));

const DIGEST = sha256Digest('manifest');
const AT = Date.parse('2026-11-28T10:00:00.000Z');

describe('Class: SqliteLedgerStore', () => {
  describe('Method: constructor', () => {
    it('upgrades a file written at schema version 1 without losing its rows', async () => {
      // Prepare: a ledger file as the first schema version left it
      const file = newFile();
      const old = new Database(file);
      old.exec(MIGRATIONS[0] as string);
      old.pragma('user_version = 1');
      old
        .prepare(
          'INSERT INTO manifests (repository, digest, media_type, size, last_pushed_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run('apps/web', DIGEST, 'application/vnd.oci.image.manifest.v1+json', 321, AT);
      old.prepare('INSERT INTO tags VALUES (?, ?, ?, ?)').run('apps/web', 'latest', DIGEST, AT);
      old.prepare('INSERT INTO events VALUES (?, ?)').run('event-1', AT);
      old
        .prepare(
          'INSERT INTO history (repository, key, at, kind, digest, tag, event_id) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run('apps/web', `${new Date(AT).toISOString()}#event-1`, AT, 'push', DIGEST, 'latest', 'event-1');
      old.close();

      // Act
      const store = new SqliteLedgerStore({ file, now: new TestClock('2026-11-29T00:00:00Z').now });

      // Assess: old rows read back, the old event id still deduplicates, the new tables work
      try {
        expect(await store.listTags('apps/web')).toEqual([
          { repository: 'apps/web', tag: 'latest', digest: DIGEST, pushedAt: new Date(AT) },
        ]);
        expect((await store.getManifests('apps/web', [DIGEST])).get(DIGEST)).toMatchObject({ size: 321 });
        expect(await store.history({ repository: 'apps/web' })).toHaveLength(1);
        const retry = await store.recordEvents([
          {
            id: 'event-1',
            action: 'push',
            repository: 'apps/web',
            digest: DIGEST,
            tag: 'latest',
            timestamp: new Date(AT),
          },
        ]);
        expect(retry.duplicates).toBe(1);
        await store.createRun({ runId: 'run-1', trigger: 'cli', startedAt: new Date(AT), budget: 3 });
        expect(await store.reserveBudget('run-1', 3)).toBe(true);
        const body = new Uint8Array(Buffer.from('{"schemaVersion":2}'));
        await store.putFacts('apps/web', [{ digest: DIGEST, mediaType: 'application/json', size: 19, body }]);
        expect((await store.getManifests('apps/web', [DIGEST])).get(DIGEST)?.body).toEqual(body);
      } finally {
        await store.close();
      }
      const upgraded = new Database(file, { readonly: true });
      expect(upgraded.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
      upgraded.close();
    });

    it('refuses a file from a newer regsweep, naming it, and leaves it as it is', () => {
      // Prepare
      const file = newFile();
      const newer = new Database(file);
      newer.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
      newer.close();

      // Act & Assess
      expect(() => new SqliteLedgerStore({ file })).toThrow(LedgerSchemaError);
      expect(() => new SqliteLedgerStore({ file })).toThrow(file);
      const after = new Database(file, { readonly: true });
      expect(after.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION + 1);
      after.close();
    });

    it.each([
      [
        'a file that is not a database',
        () => {
          const file = newFile();
          writeFileSync(file, 'this is a policy file, not a ledger\n'.repeat(100));
          return file;
        },
      ],
      ['a path in a missing directory', () => join(directory, 'missing', 'ledger.db')],
    ])('says which file it cannot open: %s', (_case, path) => {
      // Prepare
      const file = path();

      // Act
      let thrown: unknown;
      try {
        new SqliteLedgerStore({ file });
      } catch (error) {
        thrown = error;
      }

      // Assess
      expect(thrown).toBeInstanceOf(LedgerUnavailableError);
      expect((thrown as Error).message).toContain(`'${file}'`);
      // better-sqlite3's SqliteError comes from another realm under jest: check its shape, not its class.
      expect((thrown as Error).cause).toHaveProperty('message');
    });

    it('uses WAL and keeps what it wrote across reopening', async () => {
      // Prepare
      const file = newFile();
      const first = new SqliteLedgerStore({ file });
      await first.recordEvents([
        {
          id: 'event-1',
          action: 'push',
          repository: 'apps/web',
          digest: DIGEST,
          tag: 'v1',
          timestamp: new Date(AT),
        },
      ]);
      await first.close();

      // Act
      const second = new SqliteLedgerStore({ file });

      // Assess
      try {
        expect((await second.getTag('apps/web', 'v1'))?.digest).toBe(DIGEST);
      } finally {
        await second.close();
      }
      const raw = new Database(file, { readonly: true });
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      raw.close();
    });

    it('prunes expired archives from the file when it opens', async () => {
      // Prepare
      const file = newFile();
      const clock = new TestClock('2026-11-28T10:00:00.000Z');
      const first = new SqliteLedgerStore({ file, now: clock.now });
      await first.archiveRemoval({
        runId: 'run-1',
        repository: 'apps/web',
        digest: DIGEST,
        tags: ['v1'],
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        body: new TextEncoder().encode('{"schemaVersion":2}'),
        removedAt: clock.now(),
        reason: 'older than 7d',
      });
      await first.close();
      clock.advance(ARCHIVE_RETENTION_MS);

      // Act
      await new SqliteLedgerStore({ file, now: clock.now }).close();

      // Assess
      const raw = new Database(file, { readonly: true });
      expect(raw.prepare('SELECT count(*) AS count FROM removals').get()).toEqual({ count: 0 });
      raw.close();
    });

    it('prunes expired pending plans from the file when it opens, and keeps the others', async () => {
      // Prepare: one plan saved a minute before the other
      const file = newFile();
      const clock = new TestClock('2026-11-28T10:00:00.000Z');
      const first = new SqliteLedgerStore({ file, now: clock.now });
      const plan = { repository: 'apps/web', body: new Uint8Array([0, 255]) };
      await first.savePendingPlan({ ...plan, id: 'plan-old', savedAt: clock.now() });
      await first.savePendingPlan({
        ...plan,
        id: 'plan-new',
        savedAt: new Date(clock.now().getTime() + 60_000),
      });
      await first.close();
      clock.advance(PENDING_PLAN_RETENTION_MS);

      // Act
      await new SqliteLedgerStore({ file, now: clock.now }).close();

      // Assess
      const raw = new Database(file, { readonly: true });
      expect(raw.prepare('SELECT id FROM pending_plans').all()).toEqual([{ id: 'plan-new' }]);
      raw.close();
    });

    it('works on a database the caller opened, and leaves it open', async () => {
      // Prepare
      const database = new Database(':memory:');

      // Act
      const store = new SqliteLedgerStore({ database });
      await store.createRun({ runId: 'run-1', trigger: 'cli', startedAt: new Date(AT) });
      await store.close();

      // Assess
      expect(database.open).toBe(true);
      expect(database.prepare('SELECT run_id FROM runs').all()).toEqual([{ run_id: 'run-1' }]);
      database.close();
    });
  });

  describe('Module: better-sqlite3 loading', () => {
    it('is not loaded by importing the ledger, and its absence is a clear error when a file is opened', () => {
      jest.isolateModules(() => {
        // Prepare: better-sqlite3 cannot be loaded
        const loads: string[] = [];
        jest.doMock('better-sqlite3', () => {
          loads.push('better-sqlite3');
          throw new Error("Cannot find module 'better-sqlite3'");
        });

        // Act
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const ledger = require('../../../lambda/ledger') as typeof import('../../../lambda/ledger');

        // Assess
        expect(loads).toEqual([]);
        expect(() => new ledger.SqliteLedgerStore({ file: newFile() })).toThrow(
          /the SQLite ledger needs the better-sqlite3 module/,
        );
        expect(loads).toEqual(['better-sqlite3']);
      });
      jest.dontMock('better-sqlite3');
    });
  });
});
