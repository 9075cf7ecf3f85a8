import { execFile } from 'node:child_process';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import YAML from 'yaml';
import { WEBHOOK_TOKEN_PLACEHOLDER } from '../../lib/notifications-config';
import { RegsweepStack } from '../../lib/regsweep-stack';
import { FIXTURE_WEBHOOK_TOKEN } from '../fixtures/events';
import { startAwsFake, type AwsFake } from '../helpers/aws-fake';
import { startDynalite, type Dynalite } from '../../tools/dynalite';
import { DynamoDbLedgerStore } from '../../lambda/ledger';
import { listTagsRaw, pushImage } from '../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../tools/registry-process';
import {
  LambdaRuntimeModules,
  bundledFunction,
  invokeBundle,
  jsonLines,
  requiredModules,
  type BundledFunction,
  type Invocation,
} from './helpers/bundles';
import { EXAMPLE_POLICY, TestApp, logicalIdOf } from './helpers/synth';
import { NotificationListener, functionUrlEvent } from './helpers/notification-listener';
import { dashboardOf, dimensionsOf, joined } from './helpers/template-text';

const EVENTS = path.join(__dirname, '..', 'fixtures', 'events');
const BUILD = path.join(__dirname, '..', '..', 'scripts', 'build.mjs');
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:regsweep-smoke-AbC123';
const DAY_MS = 86_400_000;
const daysAgo = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString();
/** A regression guard: the bundles are ~0.7 MB (webhook) and ~1.25 MB (worker, sweep) today. */
const MAX_BUNDLE_BYTES = 1.5 * 1024 * 1024;
type Name = 'Webhook' | 'Worker' | 'Sweep';
/** The ledger table on dynalite that stands for the stack's. */
const LEDGER_TABLE = 'regsweep-smoke-ledger';

/**
 * The bundles as Lambda runs them: synthesized (esbuild, local), loaded from the cloud assembly in
 * a fresh Node process whose module path holds only the AWS SDK, with the template's environment;
 * AWS calls go to a local fake, registry calls to a real registry.
 */
describe('Bundles: the synthesized Lambda handlers', () => {
  const testApp = new TestApp({ bundle: true });
  const runtime = new LambdaRuntimeModules();
  const measured: Array<{ name: Name; bundleBytes: number; gzipBytes: number; importMs: number }> = [];
  let registry: RegistryProcess;
  let aws: AwsFake;
  let dynalite: Dynalite;
  let template: Template;
  const functions = {} as Record<Name, BundledFunction>;
  /** The worker's run (the cleaning test), whose metrics the next test reads. */
  let workerRun: Invocation | undefined;

  /** Invokes a bundle with an event fixture (by file name) or an event. */
  const invoke = async (name: Name, event: string | Record<string, unknown>): Promise<Invocation> => {
    const fn = functions[name];
    const invocation = await invokeBundle(fn, typeof event === 'string' ? path.join(EVENTS, event) : event, {
      ...aws.env(),
      AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
      NODE_PATH: runtime.nodePath,
      AWS_LAMBDA_FUNCTION_NAME: `regsweep-${name.toLowerCase()}`,
    });
    const gzipBytes = gzipSync(readFileSync(path.join(fn.directory, 'index.js'))).length;
    measured.push({
      name,
      bundleBytes: fn.bundleBytes,
      gzipBytes,
      importMs: Math.round(invocation.importMs),
    });
    return invocation;
  };

  beforeAll(async () => {
    // Prepare: apps/web has four main builds (keep 3: the oldest goes) and a release; apps/api an
    // old pull-request build (older than 7d: goes) and a new one. See examples/policy.yaml.
    [registry, aws, dynalite] = await Promise.all([
      startRegistry(),
      startAwsFake({ secrets: { [SECRET_ARN]: JSON.stringify({ webhookToken: FIXTURE_WEBHOOK_TOKEN }) } }),
      startDynalite(),
    ]);
    await dynalite.createLedgerTable(LEDGER_TABLE);
    for (const [tag, days] of [
      ['main-1111111', 4],
      ['main-2222222', 3],
      ['main-3333333', 2],
      ['main-4444444', 1],
      ['v1.0.0', 40],
    ] as const) {
      await pushImage(registry.url, 'apps/web', tag, { created: daysAgo(days) });
    }
    await pushImage(registry.url, 'apps/api', 'pr-1-aaaaaaa', { created: daysAgo(30) });
    await pushImage(registry.url, 'apps/api', 'pr-2-bbbbbbb', { created: daysAgo(1) });

    const stack = new RegsweepStack(testApp.app, 'Smoke', {
      cleaner: { registryUrl: registry.url, policy: EXAMPLE_POLICY, secretArn: SECRET_ARN },
    });
    template = Template.fromStack(stack);
    const queue = logicalIdOf(template, 'AWS::SQS::Queue', 'RegistryCleanerQueue');
    const table = logicalIdOf(template, 'AWS::DynamoDB::Table', 'RegistryCleanerLedgerTable');
    for (const name of ['Webhook', 'Worker', 'Sweep'] as const) {
      const id = logicalIdOf(template, 'AWS::Lambda::Function', `RegistryCleaner${name}Function`);
      // The only tokens in the environment are the queue URL (the fake's) and the ledger table
      // (on dynalite).
      functions[name] = bundledFunction(testApp, stack, template, id, {
        [queue]: aws.queueUrl(),
        [table]: LEDGER_TABLE,
      });
    }
  });

  afterAll(async () => {
    await Promise.all([registry?.stop(), aws?.stop(), dynalite?.stop()]);
    runtime.dispose();
    testApp.dispose();
    console.log(
      'Lambda bundles (index.js; import = require() in a fresh node):\n' +
        measured
          .map(
            ({ name, bundleBytes, gzipBytes, importMs }) =>
              `  ${name.padEnd(8)} ${(bundleBytes / 1024).toFixed(0)} KiB (${(gzipBytes / 1024).toFixed(0)} KiB gzip), import ${importMs} ms`,
          )
          .join('\n'),
    );
  });

  it('bundles need nothing but Node built-ins and the AWS SDK that the runtime provides', () => {
    // Assess
    for (const fn of Object.values(functions)) {
      const foreign = requiredModules(fn).filter(
        (name) =>
          !name.startsWith('node:') && !builtinModules.includes(name) && !name.startsWith('@aws-sdk/'),
      );
      expect(foreign).toEqual([]);
      expect(fn.bundleBytes).toBeLessThan(MAX_BUNDLE_BYTES);
    }
  });

  it("the package's prebuilt bundles (npm run build) are byte for byte these", async () => {
    // Act: what the published package ships and the construct deploys from an install.
    const outdir = mkdtempSync(path.join(tmpdir(), 'regsweep-prebuilt-'));
    try {
      await promisify(execFile)(process.execPath, [BUILD, '--handlers', '--outdir', outdir]);

      // Assess
      for (const [name, fn] of Object.entries(functions)) {
        const prebuilt = readFileSync(path.join(outdir, 'handlers', name.toLowerCase(), 'index.js'));
        expect(prebuilt.equals(readFileSync(path.join(fn.directory, 'index.js')))).toBe(true);
      }
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('webhook: answers 202 to a registry notification and queues each pushed repository', async () => {
    // Act
    const invocation = await invoke('Webhook', 'function-url-distribution-base64.json');

    // Assess
    expect(invocation.error).toBeUndefined();
    expect(invocation.result).toMatchObject({ statusCode: 202 });
    const pushes = aws.messages.filter((message) => JSON.parse(message.body).trigger === 'push');
    expect(pushes.map((message) => message.groupId).sort()).toEqual(['apps/api', 'apps/web']);
    expect(new Set(pushes.map((message) => message.queueUrl))).toEqual(new Set([aws.queueUrl()]));
    // ...and recorded the pushes in the ledger table, through the runtime's DynamoDB client.
    const ledger = new DynamoDbLedgerStore({ tableName: LEDGER_TABLE, clientConfig: dynalite.clientConfig });
    try {
      expect((await ledger.listTags('apps/web')).map((tag) => tag.tag).sort()).toEqual([
        'main-1a2b3c4',
        'v1.2.3',
      ]);
    } finally {
      await ledger.close();
    }
  });

  it('worker: cleans the queued repositories in the real registry, reporting no failed message', async () => {
    // Act
    workerRun = await invoke('Worker', 'sqs-cleanup-messages.json');

    // Assess
    expect(workerRun.error).toBeUndefined();
    expect(workerRun.result).toEqual({ batchItemFailures: [] });
    expect((await listTagsRaw(registry.url, 'apps/web')).sort()).toEqual([
      'main-2222222',
      'main-3333333',
      'main-4444444',
      'v1.0.0',
    ]);
    expect(await listTagsRaw(registry.url, 'apps/api')).toEqual(['pr-2-bbbbbbb']);
  });

  it('worker: emits one metric record per repository, with the dimensions the dashboard charts', () => {
    // Prepare: the run of the test above (jest runs a file's tests in order).
    if (!workerRun) throw new Error('the cleaning test did not run');

    // Assess: every metric record (EMF) has exactly one dimension set, the dashboard's.
    const records = jsonLines(workerRun.stdout).filter((line) => '_aws' in line);
    expect(records).toHaveLength(2);
    const charted = dashboardOf(template)
      .flatMap((widget) => widget.properties.metrics ?? [])
      .filter((metric) => metric[0] === 'regsweep' && metric[1] === 'TagsDeleted')
      .map(dimensionsOf);
    expect(charted).toHaveLength(1);
    for (const record of records) {
      const [directive] = (
        record._aws as { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> }
      ).CloudWatchMetrics;
      expect(directive.Namespace).toBe('regsweep');
      expect(directive.Dimensions).toHaveLength(1);
      const emitted = Object.fromEntries(directive.Dimensions[0].map((name) => [name, record[name]]));
      expect(emitted).toEqual(charted[0]);
      expect(record).toHaveProperty('TagsDeleted', 1);
    }
  });

  it('sweep: lists the catalog and queues every repository the policy covers', async () => {
    // Act
    const invocation = await invoke('Sweep', 'eventbridge-scheduled.json');

    // Assess
    expect(invocation.error).toBeUndefined();
    expect(invocation.result).toEqual({ repositoriesSeen: 2, queued: 2 });
    const scheduled = aws.messages.filter((message) => JSON.parse(message.body).trigger === 'schedule');
    expect(scheduled.map((message) => message.groupId).sort()).toEqual(['apps/api', 'apps/web']);
  });

  it("registry: posts a push with the token to the stack's notifications config; the webhook accepts it", async () => {
    // Prepare: the stack output pasted into the registry's config, with the URL (here a local
    // listener standing in for the Function URL) and the token filled in, as a user does.
    const listener = await new NotificationListener().start();
    try {
      const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
      const url = logicalIdOf(template, 'AWS::Lambda::Url', 'RegistryCleanerWebhookFunctionFunctionUrl');
      const line = joined(outputs.RegistryNotificationsConfig.Value)
        .replace(`{${url}.FunctionUrl}`, listener.url)
        .replace(WEBHOOK_TOKEN_PLACEHOLDER, FIXTURE_WEBHOOK_TOKEN);
      const config = YAML.parse(readFileSync(registry.configPath, 'utf8')) as Record<string, unknown>;
      writeFileSync(registry.configPath, YAML.stringify({ ...config, ...(YAML.parse(line) as object) }));
      await registry.restart();

      // Act
      await pushImage(registry.url, 'apps/notify', 'main-5555555');
      const [post] = await listener.waitForPosts(1);
      const invocation = await invoke('Webhook', functionUrlEvent(post));

      // Assess: blob pushes were left out by the config; the manifest push came with the token.
      expect(post.headers.authorization).toBe(`Bearer ${FIXTURE_WEBHOOK_TOKEN}`);
      const { events } = JSON.parse(post.body.toString('utf8')) as {
        events: Array<{ action: string; target: { repository: string; tag?: string } }>;
      };
      expect(events.map(({ action, target }) => [action, target.repository, target.tag])).toEqual([
        ['push', 'apps/notify', 'main-5555555'],
      ]);
      expect(invocation.result).toMatchObject({ statusCode: 202 });
      expect(aws.messages.map((message) => message.groupId)).toContain('apps/notify');
    } finally {
      await listener.stop();
    }
  });
});
