/*
 * `npx tsx bench/big-repository.ts [--tags N] [--deadline S] [--out DIR]`: one repository of N tags
 * (the bench seed's shape, `BENCH_POLICY`) cleaned by the worker handler in process, twice, each on
 * a fresh copy of the seeded storage:
 *   1. uninterrupted: one invocation without a deadline;
 *   2. with a simulated Lambda deadline of S seconds per invocation (the context's
 *      `getRemainingTimeInMillis` counts down from S in real time): each continuation the handler
 *      queues is handed to the next invocation, until the handler queues none. With the ledger, each
 *      continuation names the pending plan the invocation before it left, and carries it out
 *      without planning again.
 * It reports the wall time per 10k tags, the continuations, and the work of the interrupted run
 * against the uninterrupted one (registry requests and registry CPU). The worker is the real
 * handler (`createWorkerHandler`) with the real registry client and a SQLite ledger standing in
 * for DynamoDB (the same LedgerStore contract); only the SQS client is a stand-in that keeps the
 * queued continuation.
 */
import './quiet-lambda';

import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';

import { readEnvironment } from '../lambda/aws/environment';
import { logger } from '../lambda/aws/telemetry';
import { createWorkerHandler } from '../lambda/handlers/worker-handler';
import { SqliteLedgerStore } from '../lambda/ledger';
import { compilePolicy } from '../lambda/policy';
import { RegistryClient } from '../lambda/registry';
import { BENCH_ROOT } from './options';
import { SeededStorage, type TrialRegistry } from './registry-trials';
import { BENCH_POLICY, seedRepository } from './seed/scenario';

const REPOSITORY = 'bench/big';

interface Options {
  readonly tags: number;
  readonly deadlineSeconds: number;
  readonly outDir: string;
}

interface CleanRun {
  readonly invocations: number;
  /** Continuations that named a pending plan (carried out without planning again). */
  readonly fromPendingPlan: number;
  readonly wallMs: number;
  readonly requests: number;
  readonly registryCpuSeconds: number;
  readonly removed: number;
}

function parse(argv: readonly string[]): Options {
  let options: Options = { tags: 10_000, deadlineSeconds: 300, outDir: join(BENCH_ROOT, 'results') };
  for (let index = 0; index < argv.length; index += 2) {
    const [flag, value] = [argv[index], argv[index + 1]];
    const number = Number(value);
    if (flag === '--out' && value) options = { ...options, outDir: value };
    else if (flag === '--tags' && Number.isSafeInteger(number) && number > 0)
      options = { ...options, tags: number };
    else if (flag === '--deadline' && number > 0) options = { ...options, deadlineSeconds: number };
    else
      throw new Error(`usage: npx tsx bench/big-repository.ts [--tags N] [--deadline SECONDS] [--out DIR]`);
  }
  return options;
}

/** An SQS client that keeps what the handler queues (continuations) instead of sending it. */
function queueStandIn(queued: string[]): SQSClient {
  const send = async (command: { input: { Entries?: Array<{ Id: string; MessageBody: string }> } }) => {
    const entries = command.input.Entries ?? [];
    for (const entry of entries) queued.push(entry.MessageBody);
    return { Successful: entries.map((entry) => ({ Id: entry.Id })), Failed: [] };
  };
  return { send } as unknown as SQSClient;
}

function recordOf(body: string, sequence: number): SQSEvent['Records'][number] {
  return {
    messageId: `message-${sequence}`,
    receiptHandle: `receipt-${sequence}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SequenceNumber: String(sequence),
      MessageGroupId: REPOSITORY,
      SenderId: 'bench',
      MessageDeduplicationId: `dedup-${sequence}`,
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:regsweep-cleanup.fifo',
    awsRegion: 'eu-west-1',
  };
}

/** Cleans the repository with the worker handler; `deadlineMs` undefined: no deadline. */
async function clean(
  registry: TrialRegistry,
  work: string,
  deadlineMs: number | undefined,
): Promise<CleanRun> {
  const environment = readEnvironment(
    {
      REGSWEEP_REGISTRY: registry.url,
      REGSWEEP_POLICY: JSON.stringify(compilePolicy(BENCH_POLICY).document),
      REGSWEEP_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bench',
      REGSWEEP_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/regsweep-cleanup.fifo',
    },
    { requireQueue: true },
  );
  let requests = 0;
  const client = new RegistryClient({ registry: registry.url, onRequest: () => (requests += 1) });
  const ledger = new SqliteLedgerStore({ file: mkdtempSync(join(work, 'ledger-')) + '/ledger.db' });
  const queued: string[] = [];
  const handler = createWorkerHandler({ environment, client, sqs: queueStandIn(queued), ledger });
  const cpuBefore = registry.cpuSeconds();
  const started = performance.now();
  let body = JSON.stringify({
    repository: REPOSITORY,
    trigger: 'schedule',
    eventIds: [],
    runId: 'bench-run',
  });
  let invocations = 0;
  let fromPendingPlan = 0;
  let removed: number;
  try {
    for (;;) {
      invocations += 1;
      const invoked = performance.now();
      const context =
        deadlineMs === undefined
          ? undefined
          : { getRemainingTimeInMillis: () => deadlineMs - (performance.now() - invoked) };
      const response = await handler({ Records: [recordOf(body, invocations)] }, context);
      if (response.batchItemFailures.length > 0) throw new Error(`invocation ${invocations} failed`);
      const next = queued.shift();
      if (next === undefined) break;
      body = next;
      const queuedMessage = JSON.parse(next) as { continuation: number; plan?: string };
      if (queuedMessage.plan !== undefined) fromPendingPlan += 1;
      process.stderr.write(
        `  invocation ${invocations} queued continuation ${queuedMessage.continuation}` +
          (queuedMessage.plan === undefined
            ? ' (plans afresh)\n'
            : ` (pending plan ${queuedMessage.plan})\n`),
      );
    }
    removed = (await ledger.history({ repository: REPOSITORY }, { limit: 1_000_000 })).filter(
      (entry) => entry.kind === 'delete',
    ).length;
  } finally {
    await client.close();
    await ledger.close();
  }
  return {
    invocations,
    fromPendingPlan,
    wallMs: performance.now() - started,
    requests,
    registryCpuSeconds: registry.cpuSeconds() - cpuBefore,
    removed,
  };
}

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  logger.setLogLevel('ERROR');
  const work = mkdtempSync(join(tmpdir(), 'regsweep-big-'));
  process.stderr.write(`seeding ${REPOSITORY} with ${options.tags} tags\n`);
  const storage = await SeededStorage.create([seedRepository(REPOSITORY, options.tags)]);
  try {
    const runs: Record<string, CleanRun> = {};
    for (const [name, deadline] of [
      ['uninterrupted', undefined],
      ['deadline', options.deadlineSeconds * 1000],
    ] as const) {
      process.stderr.write(`${name}\n`);
      runs[name] = await storage.withTrial((registry) => clean(registry, work, deadline));
      process.stderr.write(`  ${JSON.stringify(runs[name])}\n`);
    }
    const whole = runs.uninterrupted as CleanRun;
    const cut = runs.deadline as CleanRun;
    const per10k = (run: CleanRun): string =>
      `${((run.wallMs / 1000) * (10_000 / options.tags)).toFixed(1)} s`;
    const lines = [
      `# regsweep bench: one big repository in the worker handler`,
      '',
      `${new Date().toISOString()} · ${storage.seed.tags} tags in \`${REPOSITORY}\` (the bench seed's shape, BENCH_POLICY) · simulated deadline ${options.deadlineSeconds} s per invocation`,
      '',
      '| run | invocations | continuations (from a pending plan) | wall | wall per 10k tags | registry requests | registry CPU | delete entries in the ledger |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...Object.entries(runs).map(
        ([name, run]) =>
          `| ${name} | ${run.invocations} | ${run.invocations - 1} (${run.fromPendingPlan}) | ${(run.wallMs / 1000).toFixed(1)} s | ${per10k(run)} | ${run.requests} | ${run.registryCpuSeconds.toFixed(1)} s | ${run.removed} |`,
      ),
      '',
      `Work of the interrupted run against the uninterrupted one: **${(cut.requests / whole.requests).toFixed(2)}×** the requests, ${(cut.registryCpuSeconds / whole.registryCpuSeconds).toFixed(2)}× the registry CPU, ${(cut.wallMs / whole.wallMs).toFixed(2)}× the wall time (target: ≤ 1.2×).`,
      '',
    ];
    mkdirSync(options.outDir, { recursive: true });
    writeFileSync(join(options.outDir, 'big-repository.md'), lines.join('\n'));
    writeFileSync(
      join(options.outDir, 'big-repository.json'),
      JSON.stringify({ options, tags: storage.seed.tags, runs }, null, 2),
    );
    process.stdout.write(lines.join('\n'));
  } finally {
    await storage.remove();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
