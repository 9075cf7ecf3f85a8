import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createWebhookServer, type LedgerTotals, type WebhookServer } from '../../../bin/cli/serve';
import type { Plan } from '../../../lambda/domain';
import { SqliteLedgerStore } from '../../../lambda/ledger';
import { parsePolicy, type Policy } from '../../../lambda/policy';
import { RegistryClient } from '../../../lambda/registry';
import { watchOutput } from '../../helpers/child-output';
import { CLI_PATH, runCli } from '../../helpers/cli';
import { freePort, listenOnLoopback } from '../../../tools/ports';
import { listTagsRaw, pushImage, type PushedImage } from '../../../tools/pusher';
import { rawRequest } from '../../../tools/raw-http';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

const TOKEN = 'serve-ledger-test-webhook-token-0123456789';
/** Reproducible builds: every image says it was built at the epoch, so `created` ranks nothing. */
const EPOCH = '1970-01-01T00:00:00Z';
const REPOSITORY = 'apps/api';
const POLICY_YAML = [
  'ledger:',
  '  ignorePullsFrom: ["^Trivy/"]',
  'rules:',
  '  - name: builds',
  '    tags: build-.*',
  '    order: pushed',
  '    keep: 1',
  '    keepPulledWithin: 1d',
  '',
].join('\n');
const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'regsweep-serve-ledger-'));
}

/** One notification post the relay passed on, and what serve answered it. */
interface RelayedPost {
  readonly body: string;
  readonly status: number;
}

/**
 * Between the registry and serve: passes every post on (same body and headers) and answers the
 * registry what serve answered, except that a post matched by `failOnce` is answered 500 once
 * after serve took it (serve saw it, the registry did not hear so): the registry then retries it.
 */
interface Relay {
  readonly url: string;
  readonly posts: RelayedPost[];
  target: string | undefined;
  failOnce: ((body: string) => boolean) | undefined;
  /** Resolves once `done` holds of the posts answered so far (checked at each answer). */
  until(done: (posts: readonly RelayedPost[]) => boolean): Promise<void>;
  stop(): Promise<void>;
}

async function startRelay(): Promise<Relay> {
  const waiters = new Set<() => void>();
  const relay: Relay = {
    url: '',
    posts: [],
    target: undefined,
    failOnce: undefined,
    until: (done) =>
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (!done(relay.posts)) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((request, response) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString('utf8');
      let status = 202;
      if (relay.target) {
        const forwarded = await fetch(relay.target, {
          method: 'POST',
          headers: {
            authorization: request.headers.authorization ?? '',
            'content-type': request.headers['content-type'] ?? '',
          },
          body,
        });
        status = forwarded.status;
      }
      relay.posts.push({ body, status });
      for (const waiter of [...waiters]) waiter();
      const fail = relay.failOnce?.(body) === true;
      if (fail) relay.failOnce = undefined;
      response.writeHead(fail ? 500 : status).end();
    })().catch(() => response.writeHead(502).end());
  });
  (relay as { url: string }).url = `${await listenOnLoopback(server)}/webhook`;
  return relay;
}

/** Whether a notification body names `action` of `repository:tag`. */
function names(body: string, action: string, tag: string): boolean {
  type Event = { action?: unknown; target?: { repository?: unknown; tag?: unknown } };
  const events = (JSON.parse(body) as { events?: Event[] }).events ?? [];
  return events.some(
    (event) =>
      event.action === action && event.target?.repository === REPOSITORY && event.target?.tag === tag,
  );
}

/** A pull of `repository:tag` as a client with this user agent makes it (the manifest GET). */
async function pull(registryUrl: string, tag: string, userAgent: string): Promise<void> {
  const response = await rawRequest(`${registryUrl}/v2/${REPOSITORY}/manifests/${tag}`, {
    headers: { accept: MANIFEST_ACCEPT, 'user-agent': userAgent },
  });
  if (response.status !== 200) throw new Error(`pull ${tag}: registry answered ${response.status}`);
}

interface HistoryJson {
  readonly kind: string;
  readonly tag?: string;
  readonly digest?: string;
  readonly eventId?: string;
  readonly runId?: string;
}

describe('regsweep serve records the registry into the ledger', () => {
  let relay: Relay;
  let registry: RegistryProcess;
  let client: RegistryClient;
  let policy: Policy;
  let policyFile: string;
  let ledgerFile: string;
  let ledger: SqliteLedgerStore;
  let serve: WebhookServer | undefined;
  const lines: string[] = [];
  const lineWaiters = new Set<() => void>();

  /** Resolves once `done` holds, checked at every line serve logs (an awaited event, not a poll). */
  function untilLogged(done: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (!done()) return;
        lineWaiters.delete(check);
        resolve();
      };
      lineWaiters.add(check);
      check();
    });
  }

  async function startServe(
    options: { ledger?: SqliteLedgerStore; now?: () => Date } = {},
  ): Promise<WebhookServer> {
    const started = createWebhookServer({
      client,
      policy,
      webhookToken: TOKEN,
      log: (line) => {
        lines.push(line);
        for (const waiter of [...lineWaiters]) waiter();
      },
      // No cleanup starts on its own: the test starts it (scheduler.drain) once the pulls are in.
      settleMs: 3_600_000,
      ...(options.ledger && { ledger: options.ledger }),
      ...(options.now && { now: options.now }),
    });
    serve = started;
    await new Promise<void>((resolve) => started.server.listen(0, '127.0.0.1', () => resolve()));
    relay.target = `${started.url()}/webhook`;
    return started;
  }

  beforeEach(async () => {
    // Prepare: the registry posts every notification (pulls included: nothing in
    // `ignore.actions`) through the relay to serve, which records into a real SQLite file.
    relay = await startRelay();
    registry = await startRegistry({
      notifications: [
        {
          name: 'regsweep',
          url: relay.url,
          headers: { Authorization: [`Bearer ${TOKEN}`] },
          timeout: '5s',
          threshold: 3,
          backoff: '100ms',
        },
      ],
    });
    client = new RegistryClient({ registry: registry.url });
    const dir = tempDir();
    policyFile = join(dir, 'policy.yaml');
    writeFileSync(policyFile, POLICY_YAML);
    policy = parsePolicy(POLICY_YAML);
    ledgerFile = join(dir, 'ledger.db');
    ledger = new SqliteLedgerStore({ file: ledgerFile });
    lines.length = 0;
  });

  afterEach(async () => {
    await serve?.close();
    serve = undefined;
    await client.close();
    await ledger.close();
    await registry.stop();
    await relay.stop();
  });

  it('ranks reproducible builds by push time, keeps the one a client pulled, and history shows it all', async () => {
    // Prepare: four builds, all `created` 1970, pushed in an order that is not their names' order
    // (build-b last); then build-c pulled by a client, build-a by regsweep, build-d by a scanner.
    const webhook = await startServe({ ledger });
    const images = new Map<string, PushedImage>();
    const digestOf = (tag: string): string => images.get(tag)?.digest ?? '';
    for (const tag of ['build-c', 'build-a', 'build-d', 'build-b'])
      images.set(tag, await pushImage(registry.url, REPOSITORY, tag, { created: EPOCH, seed: tag }));
    await pull(registry.url, 'build-a', 'regsweep/0.9.0 (+serve-test)');
    await pull(registry.url, 'build-d', 'Trivy/0.50.1');
    await pull(registry.url, 'build-c', 'containerd/2.0.0');
    // The registry posts to one endpoint in order: once the client pull is in, so are the others.
    await untilLogged(() => webhook.ledgerTotals.recorded >= 5);
    const afterPulls: LedgerTotals = { ...webhook.ledgerTotals };
    const manifests = await ledger.getManifests(
      REPOSITORY,
      [...images.values()].map((image) => image.digest),
    );

    // Act: what a plan with the ledger says, then the cleanup serve runs with it.
    const planned = await runCli([
      'plan',
      '--registry',
      registry.url,
      '--policy',
      policyFile,
      '--ledger',
      ledgerFile,
      '--json',
    ]);
    await webhook.scheduler.drain();
    const tags = (await listTagsRaw(registry.url, REPOSITORY)).sort();
    // The registry notifies serve's removals (deletes): await serve's answers to them.
    const deleted = (posts: readonly RelayedPost[], digest: string): boolean =>
      posts.some((post) => post.body.includes('"delete"') && post.body.includes(digest));
    await relay.until((posts) => deleted(posts, digestOf('build-a')) && deleted(posts, digestOf('build-d')));
    const history = await runCli(['history', REPOSITORY, '--ledger', ledgerFile, '--json']);

    // Assess: the pushes and the client pull were recorded, the other two pulls ignored.
    expect(afterPulls).toMatchObject({ recorded: 5, duplicates: 0, ignored: 2, lost: 0 });
    expect(manifests.get(digestOf('build-c') as never)?.lastPulledAt).toBeInstanceOf(Date);
    for (const tag of ['build-a', 'build-d', 'build-b'])
      expect(manifests.get(digestOf(tag) as never)?.lastPulledAt).toBeUndefined();
    // The plan: build-b newest by push, build-c kept for its pull, the two others removed.
    expect(planned.status).toBe(0);
    const plan = JSON.parse(planned.stdout) as Plan;
    const decided = new Map(
      (plan.repositories[0]?.tags ?? []).map((tag) => [tag.tag, { action: tag.action, reason: tag.reason }]),
    );
    expect(decided.get('build-b')?.action).toBe('keep');
    expect(decided.get('build-c')).toEqual({
      action: 'keep',
      reason: expect.stringMatching(/^pulled \S+ ago \(within keepPulledWithin 1d\)/) as unknown,
    });
    expect(decided.get('build-a')?.action).toBe('delete');
    expect(decided.get('build-d')?.action).toBe('delete');
    // serve's own cleanup, with the ledger, removed exactly those two.
    expect(tags).toEqual(['build-b', 'build-c']);
    expect(lines.join('\n')).toMatch(/apps\/api: 2 deleted/);
    // History: four pushes, one pull (the client's), two archived removals, and their deletes as
    // the sweep noted them and as the registry notified them.
    expect(history.status).toBe(0);
    const entries = JSON.parse(history.stdout) as HistoryJson[];
    const of = (kind: string): HistoryJson[] => entries.filter((entry) => entry.kind === kind);
    expect(
      of('push')
        .map((entry) => entry.tag)
        .sort(),
    ).toEqual(['build-a', 'build-b', 'build-c', 'build-d']);
    expect(of('pull').map((entry) => entry.digest)).toEqual([digestOf('build-c')]);
    expect(
      of('archive')
        .map((entry) => entry.digest)
        .sort(),
    ).toEqual([digestOf('build-a'), digestOf('build-d')].sort());
    const removed = [digestOf('build-a'), digestOf('build-d')].sort();
    const notified = of('delete').filter((entry) => !entry.eventId?.startsWith('regsweep:'));
    expect([...new Set(notified.map((entry) => entry.digest).filter(Boolean))].sort()).toEqual(removed);
    expect(
      [
        ...new Set(
          of('delete')
            .map((entry) => entry.tag)
            .filter(Boolean),
        ),
      ].sort(),
    ).toEqual(['build-a', 'build-d']);
    // Every post serve answered got its 202; no line names the token.
    expect(relay.posts.every((post) => post.status === 202)).toBe(true);
    expect(lines.join('\n')).not.toContain(TOKEN);
  });

  it('keeps a pulled build only while its pull is within keepPulledWithin, by the clock serve plans with', async () => {
    // Prepare: serve's cleanups plan two days ahead of the registry's clock (injected), so the
    // client pull the registry notifies now is two days old for them (keepPulledWithin is 1d).
    const twoDaysAhead = (): Date => new Date(Date.now() + 2 * 86_400_000);
    const webhook = await startServe({ ledger, now: twoDaysAhead });
    for (const tag of ['build-a', 'build-b'])
      await pushImage(registry.url, REPOSITORY, tag, { created: EPOCH, seed: tag });
    await pull(registry.url, 'build-a', 'containerd/2.0.0');
    await untilLogged(() => webhook.ledgerTotals.recorded >= 3);

    // Act
    await webhook.scheduler.drain();

    // Assess: build-b newest by push stays; build-a's pull is too old to keep it.
    expect((await listTagsRaw(registry.url, REPOSITORY)).sort()).toEqual(['build-b']);
    expect(lines.join('\n')).toMatch(/apps\/api: 1 deleted/);
  });

  it('records a notification the registry retries once', async () => {
    // Prepare: the first post of the push of build-1 reaches serve, but the registry hears 500.
    const webhook = await startServe({ ledger });
    relay.failOnce = (body) => names(body, 'push', 'build-1');

    // Act
    await pushImage(registry.url, REPOSITORY, 'build-1', { created: EPOCH });
    await untilLogged(() => webhook.ledgerTotals.duplicates >= 1);
    // The relay notes a post once serve has answered it.
    await relay.until((posts) => posts.filter((post) => names(post.body, 'push', 'build-1')).length >= 2);
    const history = await ledger.history({ repository: REPOSITORY, tag: 'build-1' });

    // Assess: serve saw the same post twice (the registry's retry) and recorded it once.
    const pushPosts = relay.posts.filter((post) => names(post.body, 'push', 'build-1'));
    expect(pushPosts).toHaveLength(2);
    expect(pushPosts[0]?.body).toBe(pushPosts[1]?.body);
    expect(webhook.ledgerTotals).toMatchObject({ recorded: 1, duplicates: 1, lost: 0 });
    expect(history.filter((entry) => entry.kind === 'push')).toHaveLength(1);
    expect(lines).toContainEqual(expect.stringMatching(/^ledger: 0 recorded, 1 duplicate,/));
  });

  it('answers 202 when the store fails, and logs what it lost and why', async () => {
    // Prepare: the store serve records into is closed under it (every write now fails).
    const broken = new SqliteLedgerStore({ file: join(tempDir(), 'broken.db') });
    const webhook = await startServe({ ledger: broken });
    await broken.close();

    // Act
    await pushImage(registry.url, REPOSITORY, 'build-1', { created: EPOCH });
    await untilLogged(() => webhook.ledgerTotals.lost >= 1);
    await relay.until((posts) => posts.some((post) => names(post.body, 'push', 'build-1')));

    // Assess: the push notification was answered 202; the loss is logged with the store's error.
    const pushPost = relay.posts.find((post) => names(post.body, 'push', 'build-1'));
    expect(pushPost?.status).toBe(202);
    expect(webhook.ledgerTotals).toMatchObject({ recorded: 0, lost: 1 });
    expect(lines).toContainEqual(expect.stringMatching(/^ledger: 0 recorded, .*, 1 lost: \S.+/));
  });

  it('costs bounded writes on a busy registry: pulls write once an hour per digest', async () => {
    // Prepare: a few builds; serve first without a ledger, then with one. The pulls go round the
    // builds; REGSWEEP_SERVE_BENCH_PULLS sets how many (the README's number: 3000).
    const PULLS = Number(process.env.REGSWEEP_SERVE_BENCH_PULLS ?? 300);
    const BUILDS = 10;
    const PARALLEL = 8;
    for (let n = 0; n < BUILDS; n += 1)
      await pushImage(registry.url, REPOSITORY, `build-${n}`, { created: EPOCH, seed: `build ${n}` });
    await relay.until((posts) => posts.some((post) => names(post.body, 'push', `build-${BUILDS - 1}`)));
    const isPull = (post: RelayedPost): boolean =>
      (JSON.parse(post.body) as { events?: Array<{ action?: unknown }> }).events?.some(
        (event) => event.action === 'pull',
      ) === true;
    const pulls = async (): Promise<number> => {
      relay.posts.length = 0;
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: PARALLEL }, async () => {
          while (next < PULLS) {
            const tag = `build-${next % BUILDS}`;
            next += 1;
            await pull(registry.url, tag, 'containerd/2.0.0');
          }
        }),
      );
      // Each manifest pull is one post, answered once serve is done with it: await the last.
      let counted = 0;
      let pullPosts = 0;
      await relay.until((posts) => {
        for (; counted < posts.length; counted += 1)
          if (isPull(posts[counted] as RelayedPost)) pullPosts += 1;
        return pullPosts >= PULLS;
      });
      return performance.now() - started;
    };

    // Act: off, on, off, on (the first rounds also warm the registry up); the faster round counts.
    const ms = { off: Infinity, on: Infinity };
    const withLedger: LedgerTotals[] = [];
    for (const mode of ['off', 'on', 'off', 'on'] as const) {
      await serve?.close();
      const webhook = await startServe(mode === 'on' ? { ledger } : {});
      ms[mode] = Math.min(ms[mode], await pulls());
      if (mode === 'on') withLedger.push({ ...webhook.ledgerTotals });
    }

    // Assess: with the ledger, one write per digest (its first pull), every other pull throttled.
    // The second round with it: every digest was written in the first, within the hour.
    expect(withLedger).toEqual([
      expect.objectContaining({ recorded: BUILDS, throttled: PULLS - BUILDS, lost: 0 }),
      expect.objectContaining({ recorded: 0, throttled: PULLS, lost: 0 }),
    ]);
    const rate = (took: number): number => Math.round((PULLS / took) * 1000);
    process.stderr.write(
      `serve: ${PULLS} client pulls of ${BUILDS} digests (${PARALLEL} in parallel) through the registry: ` +
        `ledger off ${rate(ms.off)} pull events/s, on ${rate(ms.on)} pull events/s; ` +
        `ledger writes: ${withLedger.map((totals) => totals.recorded).join(' then ')}\n`,
    );
  }, 300_000);
});

describe('CLI: regsweep serve --ledger', () => {
  let registry: RegistryProcess;

  afterEach(async () => {
    await registry.stop();
  });

  it('records into ./regsweep-ledger.db by default, closes it on SIGTERM; --no-ledger refuses a policy that needs one', async () => {
    // Prepare: serve in an empty directory, with a policy that needs the ledger.
    const port = await freePort();
    registry = await startRegistry({
      notifications: [
        {
          name: 'regsweep',
          url: `http://127.0.0.1:${port}/webhook`,
          headers: { Authorization: [`Bearer ${TOKEN}`] },
          timeout: '5s',
          threshold: 3,
          backoff: '100ms',
        },
      ],
    });
    const dir = tempDir();
    const policyFile = join(dir, 'policy.yaml');
    writeFileSync(policyFile, POLICY_YAML);
    const env = { PATH: process.env.PATH ?? '', REGSWEEP_WEBHOOK_TOKEN: TOKEN };
    const serve = spawn(
      process.execPath,
      [CLI_PATH, 'serve', '--registry', registry.url, '--policy', policyFile, '--port', String(port)],
      { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output = watchOutput(serve);
    const exited = new Promise<number | null>((resolve) => serve.once('exit', (code) => resolve(code)));

    // Act
    await output.logged(/ledger: recording/);
    await pushImage(registry.url, REPOSITORY, 'build-1', { created: EPOCH });
    await output.logged(/ledger: 1 recorded/);
    serve.kill('SIGTERM');
    const code = await exited;
    const history = await runCli([
      'history',
      `${REPOSITORY}:build-1`,
      '--ledger',
      join(dir, 'regsweep-ledger.db'),
      '--json',
    ]);
    const refused = await runCli(
      ['serve', '--registry', registry.url, '--policy', policyFile, '--port', '0', '--no-ledger'],
      env,
    );

    // Assess
    expect(output.text).toContain(
      `ledger: recording pushes, pulls and deletes into ${join(dir, 'regsweep-ledger.db')}`,
    );
    expect(code).toBe(0);
    expect(history.status).toBe(0);
    expect((JSON.parse(history.stdout) as HistoryJson[]).map((entry) => [entry.kind, entry.tag])).toEqual([
      ['push', 'build-1'],
    ]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('rules[0].keepPulledWithin needs a ledger');
    expect(output.text).not.toContain(TOKEN);
  });
});
