import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import type { LambdaFunctionURLEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import autocannon from 'autocannon';

import type { WebhookResult } from '../../../lambda/handlers/webhook';
import { loadEventFixture } from '../../fixtures/events';
import { startAwsFake, type AwsFake } from '../../helpers/aws-fake';
import { CLI_PATH } from '../../helpers/cli';
import { makeTempDir } from '../../../tools/exit-cleanup';
import { coldStart, lambdaEnv, TEST_SECRET_ARN } from '../../helpers/lambda';
import { freePort, listenOnLoopback } from '../../../tools/ports';
import { listTagsRaw, pushImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';
import { recordMeasurement } from '../../helpers/run-report';
import { cleanupEvent } from '../../helpers/sqs-event';

/*
 * The webhook path under load: `regsweep serve`, and the Lambda webhook handler behind a small
 * HTTP adapter, each hammered by autocannon with valid pushes (unique event ids), bad tokens and
 * garbage, on 127.0.0.1 only. The default run is short; the issue asks for 20 s and more:
 * REGSWEEP_LOAD_SECONDS=20 npx jest test/integration/reliability/webhook-load
 */
const LOAD_SECONDS = Number(process.env.REGSWEEP_LOAD_SECONDS ?? '5');
const CONNECTIONS = 64;
/** A hard bound on requests per run, whatever the duration. */
const MAX_REQUESTS_PER_SECOND = 20_000;
const TOKEN = 'load-test-webhook-token-4b9e21';
const POLICY = { rules: [{ name: 'builds', repositories: ['apps/**'], tags: 'main-\\d+', keep: 2 }] };
const BUILDS = 5;
const REPOSITORIES_PER_RUN = 8;

/** One manifest push event for `repository:main-N` with a unique id. */
function pushEnvelope(repository: string, id: string): string {
  return JSON.stringify({
    events: [
      {
        id,
        timestamp: new Date().toISOString(),
        action: 'push',
        target: {
          mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
          repository,
          tag: `main-${BUILDS}`,
          digest: `sha256:${'c'.repeat(64)}`,
          url: 'http://127.0.0.1:9/never-called',
        },
        request: { host: '127.0.0.1:9', useragent: 'docker/24.0.7' },
      },
    ],
  });
}

/** The request mix: per ten requests five valid pushes, two bad tokens, three kinds of garbage. */
function mix(repositories: readonly string[]): autocannon.Request[] {
  let sequence = 0;
  const valid = (): autocannon.Request => ({
    method: 'POST',
    path: '/webhook',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/vnd.docker.distribution.events.v1+json',
    },
    setupRequest: (request) => {
      sequence += 1;
      const repository = repositories[sequence % repositories.length] as string;
      return { ...request, body: pushEnvelope(repository, `load-${sequence}`) };
    },
  });
  const body = pushEnvelope(repositories[0] as string, 'bad-token');
  return [
    valid(),
    { method: 'POST', path: '/webhook', headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}x` }, body },
    valid(),
    {
      method: 'POST',
      path: '/webhook',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: '{"events": [{"action":',
    },
    valid(),
    { method: 'POST', path: '/webhook', body },
    valid(),
    {
      method: 'POST',
      path: '/webhook',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: '\u0000\u00ff'.repeat(512),
    },
    valid(),
    {
      method: 'POST',
      path: '/webhook',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: `[${'['.repeat(5000)}`,
    },
  ];
}

/** Runs autocannon against `url` for LOAD_SECONDS, sampling `memory()` (bytes) every `everyMs`. */
async function load(
  url: string,
  repositories: readonly string[],
  memory: () => number,
  everyMs = 250,
): Promise<{ result: autocannon.Result; samplesMb: number[] }> {
  const samplesMb: number[] = [];
  const sampler = setInterval(() => samplesMb.push(Math.round(memory() / 1024 / 1024)), everyMs);
  try {
    const result = await autocannon({
      url,
      connections: CONNECTIONS,
      duration: LOAD_SECONDS,
      maxOverallRequests: LOAD_SECONDS * MAX_REQUESTS_PER_SECOND,
      requests: mix(repositories),
      timeout: 10,
    });
    return { result, samplesMb };
  } finally {
    clearInterval(sampler);
  }
}

/** Resident memory of another process, from /proc. */
function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

function summary(result: autocannon.Result, memory: { what: string; samplesMb: number[] }) {
  return {
    seconds: result.duration,
    requests: result.requests.total,
    perSecond: Math.round(result.requests.average),
    statuses: Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count]),
    ),
    '5xx': result['5xx'],
    errors: result.errors,
    timeouts: result.timeouts,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    memoryMb: {
      what: memory.what,
      first: memory.samplesMb[0],
      max: Math.max(...memory.samplesMb),
      last: memory.samplesMb[memory.samplesMb.length - 1],
    },
  };
}

/**
 * Memory must level off: the last quarter of the run holds no more than the second quarter (after
 * warm-up) plus `marginMb`.
 */
function expectBoundedMemory(samplesMb: number[], marginMb: number): void {
  const quarter = Math.max(1, Math.floor(samplesMb.length / 4));
  const average = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
  const early = average(samplesMb.slice(quarter, 2 * quarter));
  const late = average(samplesMb.slice(-quarter));
  expect(late - early).toBeLessThan(marginMb);
}

/** `global.gc`, made available at run time (jest runs without --expose-gc). */
function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('Webhook path under load', () => {
  let registry: RegistryProcess;

  beforeAll(async () => {
    registry = await startRegistry();
    const pushes: Array<Promise<unknown>> = [];
    for (const prefix of ['serve', 'lambda']) {
      for (let index = 0; index < REPOSITORIES_PER_RUN; index += 1) {
        for (let n = 1; n <= BUILDS; n += 1) {
          const created = new Date(Date.UTC(2026, 0, n)).toISOString();
          pushes.push(pushImage(registry.url, `apps/${prefix}-${index}`, `main-${n}`, { created }));
        }
      }
    }
    await Promise.all(pushes);
  });

  afterAll(async () => {
    await registry?.stop();
  });

  const repositories = (prefix: string): string[] =>
    Array.from({ length: REPOSITORIES_PER_RUN }, (_, index) => `apps/${prefix}-${index}`);

  /** Every repository keeps exactly the two newest builds. */
  async function expectCleaned(names: readonly string[]): Promise<void> {
    for (const name of names)
      expect([name, (await listTagsRaw(registry.url, name)).sort()]).toEqual([name, ['main-4', 'main-5']]);
  }

  it(`serve: no 5xx over ${LOAD_SECONDS} s at ${CONNECTIONS} connections, memory levels off, every pushed repository cleaned`, async () => {
    // Prepare
    const port = await freePort();
    const policy = join(makeTempDir('regsweep-load-'), 'policy.json');
    writeFileSync(policy, JSON.stringify(POLICY));
    const serve: ChildProcess = spawn(
      process.execPath,
      [CLI_PATH, 'serve', '--registry', registry.url, '--policy', policy, '--port', String(port)],
      {
        // serve records into ./regsweep-ledger.db by default: keep it out of the checkout.
        cwd: join(policy, '..'),
        env: { PATH: process.env.PATH ?? '', REGSWEEP_WEBHOOK_TOKEN: TOKEN },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let log = '';
    serve.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-20_000);
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      for (let attempt = 0; attempt < 200; attempt += 1) {
        if (
          await fetch(`${url}/healthz`).then(
            (response) => response.ok,
            () => false,
          )
        )
          break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const names = repositories('serve');

      // Act
      const { result, samplesMb: rssMb } = await load(url, names, () => rssOf(serve.pid as number));
      let health: { running?: number; pending?: number } = {};
      for (let attempt = 0; attempt < 300; attempt += 1) {
        health = (await (await fetch(`${url}/healthz`)).json()) as typeof health;
        if (health.running === 0 && health.pending === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      // Assess
      expect(result['5xx']).toBe(0);
      expect(result.errors).toBe(0);
      expect(result.statusCodeStats?.['202']?.count).toBeGreaterThan(0);
      expect(result.statusCodeStats?.['401']?.count).toBeGreaterThan(0);
      expect(result.statusCodeStats?.['400']?.count).toBeGreaterThan(0);
      expectBoundedMemory(rssMb, 64);
      expect(health).toMatchObject({ running: 0, pending: 0 });
      await expectCleaned(names);
      expect(serve.exitCode).toBeNull();
      recordMeasurement('load-serve', summary(result, { what: 'serve RSS', samplesMb: rssMb }));
    } finally {
      serve.kill('SIGKILL');
    }
  });

  describe('Handler: webhook behind an HTTP adapter', () => {
    let fake: AwsFake;
    let server: Server;
    let url: string;
    let restore: () => void;

    beforeAll(async () => {
      fake = await startAwsFake({
        secrets: { [TEST_SECRET_ARN]: JSON.stringify({ webhookToken: TOKEN }) },
      });
      const cold = coldStart<(event: LambdaFunctionURLEvent) => Promise<WebhookResult>>(
        'webhook',
        lambdaEnv(fake, registry.url, POLICY),
      );
      restore = cold.restore;
      const base = loadEventFixture<LambdaFunctionURLEvent>('function-url-harbor-json');
      // What a Function URL does: lower-cased headers, the body as text, the method in the context.
      server = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(request.headers))
            if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
          const event: LambdaFunctionURLEvent = {
            ...base,
            rawPath: request.url ?? '/',
            headers,
            body: Buffer.concat(chunks).toString('utf8'),
            isBase64Encoded: false,
            requestContext: {
              ...base.requestContext,
              http: { ...base.requestContext.http, method: request.method ?? 'GET' },
            },
          };
          cold.handler(event).then(
            (result) => {
              response
                .writeHead(result.statusCode ?? 500, result.headers as Record<string, string>)
                .end(result.body);
            },
            () => response.writeHead(500).end(),
          );
        });
      });
      url = await listenOnLoopback(server);
    });

    afterAll(async () => {
      restore?.();
      await new Promise((resolve) => server?.close(resolve));
      server?.closeAllConnections();
      await fake?.stop();
    });

    it(`no 5xx over ${LOAD_SECONDS} s at ${CONNECTIONS} connections, memory levels off, every pushed repository queued and then cleaned`, async () => {
      // Act
      const names = repositories('lambda');
      // This process runs the load generator and the fake queue too: the fake's records are
      // moved out as they come, and the live heap (after a collection) is what is sampled.
      const gc = collectGarbage();
      const seen = new Set<string>();
      const drainQueue = (): void => {
        for (const message of fake.messages.splice(0))
          seen.add((JSON.parse(message.body) as { repository: string }).repository);
        fake.calls.length = 0;
      };
      const sampleHeap = (): number => {
        drainQueue();
        gc();
        return process.memoryUsage().heapUsed;
      };
      const { result, samplesMb: heapMb } = await load(url, names, sampleHeap, (LOAD_SECONDS * 1000) / 10);
      drainQueue();
      const queued = [...seen].sort();
      const worker = coldStart<(event: SQSEvent) => Promise<SQSBatchResponse>>(
        'worker',
        lambdaEnv(fake, registry.url, POLICY),
      );
      let failures: SQSBatchResponse;
      try {
        failures = await worker.handler(cleanupEvent(queued));
      } finally {
        worker.restore();
      }

      // Assess
      expect(result['5xx']).toBe(0);
      expect(result.errors).toBe(0);
      expect(result.statusCodeStats?.['202']?.count).toBeGreaterThan(0);
      expect(result.statusCodeStats?.['401']?.count).toBeGreaterThan(0);
      expect(result.statusCodeStats?.['400']?.count).toBeGreaterThan(0);
      expectBoundedMemory(heapMb, 32);
      expect(queued).toEqual([...names].sort());
      expect(failures.batchItemFailures).toEqual([]);
      await expectCleaned(names);
      recordMeasurement('load-handler', summary(result, { what: 'heap after GC', samplesMb: heapMb }));
    });
  });
});
