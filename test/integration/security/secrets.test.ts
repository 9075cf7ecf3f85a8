import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';

import type { LambdaFunctionURLEvent, ScheduledEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';

import { RegistryClient } from '../../../lambda/registry';
import type { WebhookResult } from '../../../lambda/handlers/webhook';
import { loadEventFixture, readEventFixture } from '../../fixtures/events';
import { startAwsFake } from '../../helpers/aws-fake';
import { watchOutput } from '../../helpers/child-output';
import { CLI_PATH, runCli } from '../../helpers/cli';
import { makeTempDir } from '../../../tools/exit-cleanup';
import { coldStart, lambdaEnv, TEST_SECRET_ARN } from '../../helpers/lambda';
import { freePort } from '../../../tools/ports';
import { pushImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';
import { cleanupEvent } from '../../helpers/sqs-event';
import { startTokenIssuer, type TokenIssuer } from '../../helpers/token-issuer';

/*
 * Runs every path that handles a credential (CLI with Basic, Bearer-token and ready-token
 * registries, good and bad credentials, credentials in a URL; `serve` with good and bad webhook
 * tokens; the three Lambda handlers with the secret, at DEBUG log level; the client's errors as
 * they would be logged) and scans everything they wrote for each credential and token.
 */

const BASIC_USER = { username: 'scan-basic-user', password: 'Scan-Basic-Pa55-8d0c1f' };
const TOKEN_USER = { username: 'scan-token-user', password: 'Scan-Token-Pa55-2b7e44' };
const READY_TOKEN = 'scan-ready-token-6a90e3f1';
const WEBHOOK_TOKEN = 'scan-webhook-token-e5d12c7a9b';
const WRONG = 'scan-wrong-password-0f3a';
const FAKE_AWS_SECRET = 'fake-secret-for-tests';

const POLICY = { rules: [{ name: 'apps', repositories: ['apps/**'], tags: 'main-\\d+', keep: 1 }] };

/** Every secret value, and the encodings in which it travels. */
function secretForms(): string[] {
  const values = [
    BASIC_USER.password,
    TOKEN_USER.password,
    READY_TOKEN,
    WEBHOOK_TOKEN,
    WRONG,
    FAKE_AWS_SECRET,
  ];
  const basics = [BASIC_USER, TOKEN_USER, { username: BASIC_USER.username, password: WRONG }].map(
    ({ username, password }) => Buffer.from(`${username}:${password}`).toString('base64'),
  );
  return [...new Set([...values, ...values.map(encodeURIComponent), ...basics])];
}

/** A JWT (the token service's Bearer tokens) anywhere in the text. */
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}/;

describe('Secrets in output', () => {
  const captured: Array<{ source: string; text: string }> = [];
  const capture = (source: string, text: string): void => void captured.push({ source, text });
  let basicRegistry: RegistryProcess;
  let tokenRegistry: RegistryProcess;
  let issuer: TokenIssuer;
  let policy: string;

  beforeAll(async () => {
    basicRegistry = await startRegistry({ htpasswd: BASIC_USER });
    issuer = await startTokenIssuer({ users: { [TOKEN_USER.username]: TOKEN_USER.password } });
    tokenRegistry = await startRegistry({ token: issuer });
    for (let n = 1; n <= 3; n += 1) {
      const created = new Date(Date.UTC(2026, 0, n)).toISOString();
      await pushImage(basicRegistry.url, 'apps/web', `main-${n}`, { created, auth: BASIC_USER });
    }
    policy = join(makeTempDir('regsweep-secrets-'), 'policy.json');
    writeFileSync(policy, JSON.stringify(POLICY));
  });

  afterAll(async () => {
    await basicRegistry?.stop();
    await tokenRegistry?.stop();
    await issuer?.stop();
  });

  it('CLI: no credential in stdout or stderr, with good and bad credentials', async () => {
    const basic = { REGSWEEP_USERNAME: BASIC_USER.username, REGSWEEP_PASSWORD: BASIC_USER.password };
    const token = { REGSWEEP_USERNAME: TOKEN_USER.username, REGSWEEP_PASSWORD: TOKEN_USER.password };
    const runs: Array<[string, string[], Record<string, string>, number]> = [
      ['plan, Basic', ['plan', '--registry', basicRegistry.url, '--policy', policy, '--json'], basic, 0],
      ['sweep, Basic', ['sweep', '--registry', basicRegistry.url, '--policy', policy], basic, 0],
      [
        'plan, wrong Basic password',
        ['plan', '--registry', basicRegistry.url, '--policy', policy],
        { ...basic, REGSWEEP_PASSWORD: WRONG },
        2,
      ],
      [
        'delete, wrong Basic password',
        ['delete', '--registry', basicRegistry.url, 'apps/web:main-3'],
        { ...basic, REGSWEEP_PASSWORD: WRONG },
        2,
      ],
      ['plan, token service', ['plan', '--registry', tokenRegistry.url, '--policy', policy], token, 0],
      [
        'plan, token service, wrong password',
        ['plan', '--registry', tokenRegistry.url, '--policy', policy],
        { ...token, REGSWEEP_PASSWORD: WRONG },
        2,
      ],
      [
        'plan, a ready token the registry refuses',
        ['plan', '--registry', tokenRegistry.url, '--policy', policy],
        { REGSWEEP_TOKEN: READY_TOKEN },
        2,
      ],
      [
        'plan, a ready token on Basic',
        ['plan', '--registry', basicRegistry.url, '--policy', policy],
        { REGSWEEP_TOKEN: READY_TOKEN },
        2,
      ],
      [
        'plan, credentials in the registry URL',
        [
          'plan',
          '--registry',
          `http://${BASIC_USER.username}:${BASIC_USER.password}@127.0.0.1:${basicRegistry.port}`,
          '--policy',
          policy,
        ],
        {},
        2,
      ],
    ];
    for (const [name, args, env, status] of runs) {
      const result = await runCli(args, env);
      capture(`cli ${name} stdout`, result.stdout);
      capture(`cli ${name} stderr`, result.stderr);
      expect([name, result.status]).toEqual([name, status]);
    }
  });

  it('serve: no credential in its log, for good, bad and near-miss webhook tokens', async () => {
    const port = await freePort();
    const serve = spawn(
      process.execPath,
      [CLI_PATH, 'serve', '--registry', basicRegistry.url, '--policy', policy, '--port', String(port)],
      {
        // serve records into ./regsweep-ledger.db by default: keep it out of the checkout.
        cwd: join(policy, '..'),
        env: {
          PATH: process.env.PATH ?? '',
          REGSWEEP_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
          REGSWEEP_USERNAME: BASIC_USER.username,
          REGSWEEP_PASSWORD: WRONG,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const output = watchOutput(serve);
    const exited = new Promise((resolve) => serve.once('exit', resolve));
    try {
      const url = `http://127.0.0.1:${port}`;
      await output.logged(/regsweep serve: POST /);
      const body = readEventFixture('distribution-push-manifest');
      for (const authorization of [
        `Bearer ${WEBHOOK_TOKEN}`,
        `Bearer ${WRONG}`,
        `Bearer ${WEBHOOK_TOKEN.slice(0, -1)}`,
        `Basic ${WEBHOOK_TOKEN}`,
      ]) {
        const response = await fetch(`${url}/webhook`, { method: 'POST', headers: { authorization }, body });
        capture(`serve answer to ${authorization.slice(0, 6)}`, await response.text());
      }
      // The push is cleaned with refused credentials: the failure is logged.
      await output.logged(/cleanup failed/);
      expect(output.text).toMatch(/apps\/web: cleanup failed: .*refused the credentials/);
    } finally {
      serve.kill('SIGTERM');
      await exited;
      capture('serve log', output.text);
    }
  });

  it('Lambda handlers: no credential in their logs at DEBUG level', async () => {
    const secret = JSON.stringify({ ...BASIC_USER, password: WRONG, webhookToken: WEBHOOK_TOKEN });
    const fake = await startAwsFake({ secrets: { [TEST_SECRET_ARN]: secret } });
    const env = lambdaEnv(fake, basicRegistry.url, POLICY, { POWERTOOLS_LOG_LEVEL: 'DEBUG' });
    const write = process.stdout.write.bind(process.stdout);
    const writeError = process.stderr.write.bind(process.stderr);
    let logs = '';
    const tap = (chunk: string | Uint8Array): boolean => {
      logs += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      return true;
    };
    process.stdout.write = tap as typeof process.stdout.write;
    process.stderr.write = tap as typeof process.stderr.write;
    try {
      const webhook = coldStart<(event: LambdaFunctionURLEvent) => Promise<WebhookResult>>('webhook', env);
      const worker = coldStart<(event: SQSEvent) => Promise<SQSBatchResponse>>('worker', env);
      const sweep = coldStart<(event: ScheduledEvent) => Promise<unknown>>('sweep', env);
      try {
        const good = loadEventFixture<LambdaFunctionURLEvent>('function-url-harbor-json');
        const withToken = (authorization: string): LambdaFunctionURLEvent => ({
          ...good,
          headers: { ...good.headers, authorization },
        });
        expect((await webhook.handler(withToken(`Bearer ${WEBHOOK_TOKEN}`))).statusCode).toBe(202);
        expect((await webhook.handler(withToken(`Bearer ${WRONG}`))).statusCode).toBe(401);
        const failures = await worker.handler(cleanupEvent(['apps/web']));
        expect(failures.batchItemFailures).toHaveLength(1);
        await sweep.handler(loadEventFixture('eventbridge-scheduled')).catch(() => undefined);
      } finally {
        webhook.restore();
        worker.restore();
        sweep.restore();
      }
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeError;
      await fake.stop();
    }
    expect(logs).toMatch(/cleanup failed/);
    capture('lambda logs', logs);
  });

  it('client errors, as a logger or a debugger would print them, carry no credential', async () => {
    const clients = [
      new RegistryClient({ registry: basicRegistry.url, credentials: { ...BASIC_USER, password: WRONG } }),
      new RegistryClient({ registry: tokenRegistry.url, credentials: { ...TOKEN_USER, password: WRONG } }),
      new RegistryClient({ registry: tokenRegistry.url, credentials: { token: READY_TOKEN } }),
    ];
    for (const client of clients) {
      const error = await client.ping().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Error);
      capture('client error inspect', inspect(error, { depth: 10, showHidden: true }));
      capture('client error json', JSON.stringify(error));
      capture('client error stack', (error as Error).stack ?? '');
      await client.close();
    }
  });

  it('scan: none of the output above holds a credential, a token or a JWT', () => {
    // Runs last. The scan must find a planted secret, or finding nothing means nothing.
    expect(
      leaks([{ source: 'control', text: `user=${BASIC_USER.username} ${TOKEN_USER.password}` }]),
    ).toEqual(['control: Scan-T…']);
    expect(captured.length).toBeGreaterThan(20);
    expect(leaks(captured)).toEqual([]);
  });
});

/** `source: secret…` for each secret form (or JWT) found in a captured text. */
function leaks(captured: ReadonlyArray<{ source: string; text: string }>): string[] {
  const forms = secretForms();
  return captured.flatMap(({ source, text }) => [
    ...forms.filter((form) => text.includes(form)).map((form) => `${source}: ${form.slice(0, 6)}…`),
    ...(JWT.test(text) ? [`${source}: a JWT`] : []),
  ]);
}
