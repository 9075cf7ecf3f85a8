import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchOutput, type ChildOutput } from '../../helpers/child-output';
import { CLI_PATH } from '../../helpers/cli';
import { freePort } from '../../../tools/ports';
import { listTagsRaw, pushImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

const TOKEN = 'serve-test-webhook-token-0123456789';
const DAY_MS = 86_400_000;
const daysAgo = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString();

async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('CLI: regsweep serve', () => {
  let registry: RegistryProcess;
  let serve: ChildProcess;
  let serveUrl: string;
  let output: ChildOutput;

  beforeAll(async () => {
    // Prepare: the registry posts its notifications to `regsweep serve`, with the bearer token.
    const port = await freePort();
    serveUrl = `http://127.0.0.1:${port}`;
    registry = await startRegistry({
      notifications: [
        {
          name: 'regsweep',
          url: `${serveUrl}/webhook`,
          headers: { Authorization: [`Bearer ${TOKEN}`] },
          timeout: '2s',
          threshold: 3,
          backoff: '200ms',
        },
      ],
    });
    const policy = join(mkdtempSync(join(tmpdir(), 'regsweep-serve-')), 'policy.yaml');
    writeFileSync(policy, 'protect: [latest]\nrules:\n  - name: branch\n    tags: main-\\d+\n    keep: 2\n');
    serve = spawn(
      process.execPath,
      [CLI_PATH, 'serve', '--registry', registry.url, '--policy', policy, '--port', String(port)],
      {
        // serve records into ./regsweep-ledger.db by default: keep it out of the checkout.
        cwd: join(policy, '..'),
        env: { PATH: process.env.PATH ?? '', REGSWEEP_WEBHOOK_TOKEN: TOKEN },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    output = watchOutput(serve);
    const health = await waitFor(
      () =>
        fetch(`${serveUrl}/healthz`).then(
          (response) => response.status,
          () => 0,
        ),
      (status) => status === 200,
    );
    if (health !== 200) throw new Error(`serve did not start:\n${output.text}`);
  });

  afterAll(async () => {
    if (serve.exitCode === null) serve.kill('SIGKILL');
    await registry.stop();
  });

  it("removes the superseded branch build within seconds of a push, via the registry's own notifications", async () => {
    // Act: three builds, then a fourth; each removal is awaited as serve's log line, not timed.
    const cleaned = /team\/app: 1 deleted/g;
    for (let n = 1; n <= 3; n += 1)
      await pushImage(registry.url, 'team/app', `main-${n}`, { created: daysAgo(10 - n) });
    await output.logged(cleaned, 1);
    const afterThree = await listTagsRaw(registry.url, 'team/app');
    await pushImage(registry.url, 'team/app', 'main-4', { created: daysAgo(1) });
    await output.logged(cleaned, 2);
    const afterFour = await listTagsRaw(registry.url, 'team/app');

    // Assess
    expect(afterThree.sort()).toEqual(['main-2', 'main-3']);
    expect(afterFour.sort()).toEqual(['main-3', 'main-4']);
    expect(output.text).toMatch(/team\/app: 1 deleted/);
    expect(output.text).not.toContain(TOKEN);
  });

  it('answers 401 to a wrong token, 405 to a GET and 404 elsewhere', async () => {
    const post = (headers: Record<string, string>): Promise<number> =>
      fetch(`${serveUrl}/webhook`, { method: 'POST', headers, body: '{"events":[]}' }).then((r) => r.status);
    expect(await post({ authorization: 'Bearer wrong' })).toBe(401);
    expect(await post({ authorization: `Bearer ${TOKEN}` })).toBe(202);
    expect((await fetch(`${serveUrl}/webhook`)).status).toBe(405);
    expect((await fetch(`${serveUrl}/elsewhere`)).status).toBe(404);
  });

  it('answers 413 to an oversized body without reading it all', async () => {
    const response = await fetch(`${serveUrl}/webhook`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: 'x'.repeat(3 * 1024 * 1024),
    }).catch((error: unknown) => error);
    // Node's fetch may see the closed connection before or after reading the answer.
    if (response instanceof Response) expect(response.status).toBe(413);
    expect((await fetch(`${serveUrl}/healthz`)).status).toBe(200);
  });

  it('shuts down cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => serve.once('exit', (code) => resolve(code)));
    serve.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output.text).toContain('shutting down');
  });
});
