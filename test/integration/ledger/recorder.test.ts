import { join } from 'node:path';

import { sha256Digest } from '../../../lambda/domain';
import {
  RECORD_CHUNK_EVENTS,
  SqliteLedgerStore,
  recordWithin,
  type LedgerEvent,
  type LedgerStore,
} from '../../../lambda/ledger';
import { makeTempDir, removeTempDir } from '../../../tools/exit-cleanup';

let directory: string;

beforeAll(() => {
  directory = makeTempDir('regsweep-ledger-recorder-');
});

afterAll(async () => {
  await removeTempDir(directory);
});

function pushes(count: number): LedgerEvent[] {
  return Array.from({ length: count }, (_, n) => ({
    id: `event-${n}`,
    action: 'push' as const,
    repository: 'apps/api',
    tag: `build-${n}`,
    digest: sha256Digest(`build ${n}`),
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    timestamp: new Date(Date.UTC(2026, 10, 1, 0, n)),
  }));
}

/** A store whose `recordEvents` answers the first `working` calls from a real file, then fails or hangs. */
function faltering(store: LedgerStore, working: number, then: 'fail' | 'hang'): LedgerStore {
  let calls = 0;
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key !== 'recordEvents') return Reflect.get(target, key, receiver) as unknown;
      return (...args: Parameters<LedgerStore['recordEvents']>) => {
        calls += 1;
        if (calls <= working) return target.recordEvents(...args);
        return then === 'fail' ? Promise.reject(new Error('disk I/O error')) : new Promise(() => undefined);
      };
    },
  });
}

describe('Function: recordWithin', () => {
  it('records every event in chunks and counts them', async () => {
    // Prepare
    const store = new SqliteLedgerStore({ file: join(directory, 'all.db') });

    // Act
    const outcome = await recordWithin(store, pushes(RECORD_CHUNK_EVENTS * 2 + 3));

    // Assess
    expect(outcome).toEqual({
      recorded: RECORD_CHUNK_EVENTS * 2 + 3,
      duplicates: 0,
      throttled: 0,
      ignored: 0,
      lost: 0,
    });
    expect(await store.listTags('apps/api')).toHaveLength(RECORD_CHUNK_EVENTS * 2 + 3);
    await store.close();
  });

  it('keeps what it recorded before the store failed, counts the rest lost with the reason, and never throws', async () => {
    // Prepare
    const file = new SqliteLedgerStore({ file: join(directory, 'fail.db') });

    // Act
    const outcome = await recordWithin(faltering(file, 1, 'fail'), pushes(RECORD_CHUNK_EVENTS + 10));

    // Assess
    expect(outcome).toMatchObject({ recorded: RECORD_CHUNK_EVENTS, lost: 10, error: 'disk I/O error' });
    expect(await file.listTags('apps/api')).toHaveLength(RECORD_CHUNK_EVENTS);
    await file.close();
  });

  it('gives up on a store that never answers once the budget is spent', async () => {
    // Prepare: the store hangs from its first call, so the outcome is the same however slow the machine.
    const file = new SqliteLedgerStore({ file: join(directory, 'hang.db') });

    // Act
    const outcome = await recordWithin(faltering(file, 0, 'hang'), pushes(3), { budgetMs: 20 });

    // Assess
    expect(outcome).toEqual({
      recorded: 0,
      duplicates: 0,
      throttled: 0,
      ignored: 0,
      lost: 3,
      error: 'the ledger took longer than 20 ms',
    });
    await file.close();
  });
});
