import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

import type { LambdaFunctionURLEvent } from 'aws-lambda';
import fc from 'fast-check';
import { Agent, request } from 'undici';

import { repositoryNameProblem } from '../../../lambda/domain';
import type { WebhookResult } from '../../../lambda/handlers/webhook';
import { loadEventFixture } from '../../fixtures/events';
import { startAwsFake, type AwsFake } from '../../helpers/aws-fake';
import { startCanary, type Canary } from '../../helpers/canary';
import { CLI_PATH } from '../../helpers/cli';
import { makeTempDir } from '../../../tools/exit-cleanup';
import {
  authorizationHeader,
  contentType,
  COVERED_REPOSITORIES,
  extraHeaders,
  hostileBody,
} from '../../helpers/hostile-webhooks';
import { coldStart, lambdaEnv, TEST_SECRET_ARN } from '../../helpers/lambda';
import { freePort } from '../../../tools/ports';
import { recordMeasurement } from '../../helpers/run-report';

type Handler = (event: LambdaFunctionURLEvent) => Promise<WebhookResult>;

const WEBHOOK_TOKEN = 'fuzz-webhook-token-7c1d9e0a5b';
const POLICY = { rules: [{ name: 'apps', repositories: ['apps/**'], keep: 3 }] };
const GATE_STATUSES = [202, 400, 401, 405, 413];

/** The repository a registry API path names (`/v2/<name>/tags/list...`), if any. */
function repositoryOfPath(path: string): string | undefined {
  return /^\/v2\/(.+?)\/(?:tags\/list|manifests\/|blobs\/)/.exec(path)?.[1];
}

describe('Webhook endpoints under hostile input', () => {
  let elsewhere: Canary;
  let registry: Canary;

  beforeAll(async () => {
    // `elsewhere` is what event payloads point at; `registry` plays the configured registry and
    // knows no repository (a cleanup lists tags and finds none).
    elsewhere = await startCanary();
    registry = await startCanary((hit, response) => {
      const body = hit.path === '/v2/' ? '{}' : '{"errors":[{"code":"NAME_UNKNOWN","message":"unknown"}]}';
      response
        .writeHead(hit.path === '/v2/' ? 200 : 404, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        })
        .end(body);
    });
  });

  afterAll(async () => {
    await elsewhere?.stop();
    await registry?.stop();
  });

  describe('Handler: webhook (Lambda)', () => {
    let fake: AwsFake;
    let handler: Handler;
    let restore: () => void;

    beforeAll(async () => {
      fake = await startAwsFake({
        secrets: {
          [TEST_SECRET_ARN]: JSON.stringify({ token: 'registry-token-fuzz-1', webhookToken: WEBHOOK_TOKEN }),
        },
      });
      ({ handler, restore } = coldStart<Handler>('webhook', lambdaEnv(fake, registry.url, POLICY)));
    });

    afterAll(async () => {
      restore?.();
      await fake?.stop();
    });

    it('answers every body and header set with a 2xx/4xx, queues only valid covered names, and calls nothing', async () => {
      const base = loadEventFixture<LambdaFunctionURLEvent>('function-url-harbor-json');
      let runs = 0;
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(
          hostileBody(new URL(elsewhere.url)),
          authorizationHeader(WEBHOOK_TOKEN),
          contentType,
          extraHeaders,
          fc.boolean(),
          fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'post'),
          async (body, authorization, type, headers, base64, method) => {
            runs += 1;
            const queuedBefore = fake.messages.length;
            const event: LambdaFunctionURLEvent = {
              ...base,
              requestContext: { ...base.requestContext, http: { ...base.requestContext.http, method } },
              headers: {
                ...headers,
                ...(authorization !== undefined && { authorization }),
                ...(type !== undefined && { 'content-type': type }),
              },
              body: base64 ? Buffer.from(body).toString('base64') : body,
              isBase64Encoded: base64,
            };
            const result = await handler(event);
            const status = result.statusCode ?? 0;
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            expect(GATE_STATUSES).toContain(result.statusCode);
            for (const message of fake.messages.slice(queuedBefore)) {
              const repository = (JSON.parse(message.body) as { repository: string }).repository;
              expect(COVERED_REPOSITORIES).toContain(repository);
            }
          },
        ),
        { numRuns: 1000, seed: 20_261_128 },
      );
      expect(elsewhere.hits).toEqual([]);
      expect(registry.hits).toEqual([]);
      // The inputs reached every answer of the gate, and valid pushes were queued.
      expect([...statuses.keys()].sort()).toEqual([202, 400, 401, 405, 413]);
      expect(fake.messages.length).toBeGreaterThan(0);
      recordMeasurement('fuzz-handler', {
        runs,
        statuses: Object.fromEntries(statuses),
        queued: fake.messages.length,
      });
    });
  });

  describe('CLI: regsweep serve', () => {
    let serve: ChildProcess;
    let url: string;
    let log = '';
    const agent = new Agent({ connections: 8 });

    beforeAll(async () => {
      const policy = join(makeTempDir('regsweep-fuzz-'), 'policy.json');
      writeFileSync(policy, JSON.stringify(POLICY));
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      serve = spawn(
        process.execPath,
        [CLI_PATH, 'serve', '--registry', registry.url, '--policy', policy, '--port', String(port)],
        {
          // serve records into ./regsweep-ledger.db by default: keep it out of the checkout.
          cwd: join(policy, '..'),
          env: { PATH: process.env.PATH ?? '', REGSWEEP_WEBHOOK_TOKEN: WEBHOOK_TOKEN },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      serve.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
      serve.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
      await waitForHealth(url, () => log);
    });

    afterAll(async () => {
      if (serve?.exitCode === null) serve.kill('SIGKILL');
      await agent.close();
    });

    it('answers every wrong token guess exactly alike, before reading the body', async () => {
      const answers = new Set<string>();
      for (const authorization of [
        `Bearer ${WEBHOOK_TOKEN.slice(0, -1)}x`,
        `Bearer ${WEBHOOK_TOKEN.slice(0, -1)}`,
        `Bearer ${WEBHOOK_TOKEN}x`,
        `Bearer x${WEBHOOK_TOKEN.slice(1)}`,
        `Basic ${WEBHOOK_TOKEN}`,
        undefined,
      ]) {
        const response = await request(`${url}/webhook`, {
          method: 'POST',
          dispatcher: agent,
          headers: authorization === undefined ? {} : { authorization },
          body: '{"events": [',
        });
        const { 'content-type': type, 'content-length': length } = response.headers;
        answers.add(JSON.stringify([response.statusCode, type, length, await response.body.text()]));
      }
      expect([...answers]).toEqual([
        JSON.stringify([401, 'application/json', '45', '{"message":"missing or invalid bearer token"}']),
      ]);
    });

    it('answers every body and header set with a 2xx/4xx, cleans only valid covered names, and calls nothing else', async () => {
      let runs = 0;
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(
          hostileBody(new URL(elsewhere.url)),
          authorizationHeader(WEBHOOK_TOKEN),
          contentType,
          extraHeaders,
          fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE'),
          fc.constantFrom('/webhook', '/webhook', '/webhook?x=1', '/webhook/', '/%2e%2e/webhook', '/healthz'),
          async (body, authorization, type, headers, method, path) => {
            runs += 1;
            const response = await request(`${url}${path}`, {
              method,
              dispatcher: agent,
              headers: {
                ...headers,
                ...(authorization !== undefined && { authorization }),
                ...(type !== undefined && { 'content-type': type }),
              },
              ...(method !== 'GET' && { body }),
            }).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
            if (response instanceof Error) {
              // Only an oversized body may see its connection closed early (after the 413).
              expect(Buffer.byteLength(body)).toBeGreaterThan(1024 * 1024);
              return;
            }
            await response.body.dump();
            statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
            expect(response.statusCode).toBeLessThan(500);
          },
        ),
        { numRuns: 400, seed: 20_261_128 },
      );

      // Malformed HTTP straight on the socket: answered 4xx by the server, or closed.
      for (const raw of [
        'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
        'POST /webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n',
        `POST /webhook HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`,
        'GARBAGE\r\n\r\n',
        'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
      ]) {
        const status = await rawStatus(url, raw);
        const refused = status === 0 || (status >= 400 && status < 500);
        expect([raw.slice(0, 40), status, refused]).toEqual([raw.slice(0, 40), status, true]);
      }

      // Let the cleanups that valid pushes started finish, then look at who was called.
      const health = await waitForIdle(url);
      expect(health).toMatchObject({ status: 'ok', running: 0, pending: 0 });
      expect(elsewhere.hits).toEqual([]);
      const named = registry.hits
        .map((hit) => repositoryOfPath(hit.path))
        .filter((name) => name !== undefined);
      expect(named.length).toBeGreaterThan(0);
      for (const name of named) {
        expect([name, repositoryNameProblem(name)]).toEqual([name, undefined]);
        expect(COVERED_REPOSITORIES).toContain(name);
      }
      expect(serve.exitCode).toBeNull();
      expect(statuses.get(202)).toBeGreaterThan(0);
      expect(statuses.get(400)).toBeGreaterThan(0);
      expect(statuses.get(401)).toBeGreaterThan(0);
      recordMeasurement('fuzz-serve', {
        runs,
        statuses: Object.fromEntries(statuses),
        registryCalls: registry.hits.length,
        elsewhere: elsewhere.hits.length,
      });
    });
  });
});

async function waitForHealth(url: string, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const status = await fetch(`${url}/healthz`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`serve did not start:\n${log()}`);
}

/** Polls `/healthz` until nothing runs or waits (the settle delay is 1 s). */
async function waitForIdle(url: string): Promise<unknown> {
  const deadline = Date.now() + 20_000;
  let health: { running?: number; pending?: number } = {};
  while (Date.now() < deadline) {
    health = (await (await fetch(`${url}/healthz`)).json()) as typeof health;
    if (health.running === 0 && health.pending === 0) return health;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return health;
}

/** Writes raw bytes to the server; the status of its answer, or 0 when it closed without one. */
function rawStatus(url: string, raw: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.setTimeout(5_000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    socket.on('close', () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.on('error', () => undefined);
    socket.write(raw);
  });
}
