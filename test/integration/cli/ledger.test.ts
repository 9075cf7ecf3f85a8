import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Plan } from '../../../lambda/domain';
import { SqliteLedgerStore, type LedgerEvent } from '../../../lambda/ledger';
import { runCli } from '../../helpers/cli';
import { listTagsRaw, pushImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

const HOUR_MS = 3_600_000;
/** Reproducible builds: every image says it was built at the epoch, so `created` ranks nothing. */
const EPOCH = '1970-01-01T00:00:00Z';

function tempFile(name: string, text?: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'regsweep-ledger-cli-')), name);
  if (text !== undefined) writeFileSync(file, text);
  return file;
}

describe('CLI: plan, sweep and history with --ledger', () => {
  let registry: RegistryProcess;

  beforeEach(async () => {
    registry = await startRegistry();
  });

  afterEach(async () => {
    await registry.stop();
  });

  it('ranks reproducible builds by push time, keeps a build a client pulled, and records the removals', async () => {
    // Prepare: four builds, all `created` 1970; the ledger saw them pushed an hour apart (build-4
    // newest) and saw build-1 pulled by a client two hours ago, build-2 only by regsweep itself.
    const url = registry.url;
    const now = Date.now();
    const images = [];
    for (let n = 1; n <= 4; n += 1)
      images.push(await pushImage(url, 'apps/api', `build-${n}`, { created: EPOCH, seed: `build ${n}` }));
    const ledgerPath = tempFile('ledger.db');
    const store = new SqliteLedgerStore({ file: ledgerPath });
    const events: LedgerEvent[] = images.map((image, n) => ({
      id: `push-${n + 1}`,
      action: 'push',
      repository: 'apps/api',
      tag: `build-${n + 1}`,
      digest: image.digest,
      mediaType: image.mediaType,
      timestamp: new Date(now - (10 - n) * HOUR_MS),
    }));
    events.push(
      pull('pull-1', images[0]?.digest, 'containerd/2.0.0', now - 2 * HOUR_MS),
      pull('pull-2', images[1]?.digest, 'regsweep/0.3.0 (+plan)', now - 2 * HOUR_MS),
    );
    await store.recordEvents(events);
    await store.close();
    const policy = tempFile(
      'policy.yaml',
      'rules:\n  - name: builds\n    tags: build-.*\n    order: pushed\n    keep: 1\n    keepPulledWithin: 1d\n',
    );

    // Act
    const planned = await runCli([
      'plan',
      '--registry',
      url,
      '--policy',
      policy,
      '--ledger',
      ledgerPath,
      '--json',
    ]);
    const swept = await runCli([
      'sweep',
      '--registry',
      url,
      '--policy',
      policy,
      '--ledger',
      ledgerPath,
      '--json',
    ]);
    const history = await runCli(['history', 'apps/api:build-2', '--ledger', ledgerPath, '--json']);

    // Assess: build-4 is the newest push, build-1 was pulled by a client; build-2 (pulled only by
    // regsweep) and build-3 go. The plan carries the ledger's times.
    expect(planned.status).toBe(0);
    const plan = JSON.parse(planned.stdout) as Plan;
    const actions = Object.fromEntries(plan.repositories[0]?.tags.map((tag) => [tag.tag, tag.action]) ?? []);
    expect(actions).toEqual({
      'build-1': 'keep',
      'build-2': 'delete',
      'build-3': 'delete',
      'build-4': 'keep',
    });
    const build1 = plan.repositories[0]?.tags.find((tag) => tag.tag === 'build-1');
    expect(build1?.reason).toContain('pulled 2h ago');
    expect(build1?.pushedAt).toBe(new Date(now - 10 * HOUR_MS).toISOString());
    expect(build1?.pulledAt).not.toBeNull();
    expect(swept.status).toBe(0);
    expect((await listTagsRaw(url, 'apps/api')).sort()).toEqual(['build-1', 'build-4']);
    expect(history.status).toBe(0);
    const entries = JSON.parse(history.stdout) as Array<{ kind: string; tag?: string; digest?: string }>;
    expect(entries.map((entry) => entry.kind)).toEqual(expect.arrayContaining(['push']));
    expect(entries[0]).toMatchObject({ kind: 'delete' });
  });

  it('refuses a ledger field without a ledger, naming the field and the flag, before any request', async () => {
    // Act
    const result = await runCli([
      'plan',
      '--registry',
      'http://127.0.0.1:1',
      '--policy',
      tempFile(
        'policy.yaml',
        'rules:\n  - name: prs\n    tags: pr-.*\n    olderThan: 7d\n    keepPulledWithin: 30d\n',
      ),
    ]);

    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('rules[0].keepPulledWithin needs a ledger: --ledger FILE');
  });

  it('history without a ledger is a usage error; with an empty ledger it says nothing was seen', async () => {
    // Act
    const without = await runCli(['history', 'apps/api']);
    const empty = await runCli(['history', 'apps/api:latest', '--ledger', tempFile('empty.db')]);
    const badReference = await runCli(['history', 'Apps/API', '--ledger', tempFile('empty.db')]);

    // Assess
    expect(without.status).toBe(2);
    expect(without.stderr).toContain('--ledger FILE');
    expect(empty.status).toBe(0);
    expect(empty.stdout).toContain('no history of apps/api:latest');
    expect(badReference.status).toBe(2);
  });

  it('an unopenable ledger file is exit 2 naming the file', async () => {
    // Act: a directory is no SQLite file.
    const folder = mkdtempSync(join(tmpdir(), 'regsweep-ledger-dir-'));
    const result = await runCli([
      'plan',
      '--registry',
      registry.url,
      '--policy',
      tempFile('policy.yaml', 'rules:\n  - name: all\n    keep: 1\n'),
      '--ledger',
      folder,
    ]);

    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(folder);
  });
});

function pull(id: string, digest: string | undefined, userAgent: string, at: number): LedgerEvent {
  if (!digest) throw new Error('no digest to pull');
  return {
    id,
    action: 'pull',
    repository: 'apps/api',
    digest: digest as LedgerEvent['digest'] & string,
    userAgent,
    timestamp: new Date(at),
  };
}
