import { spawn, type ChildProcess } from 'node:child_process';

import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';

import { LEDGER_TABLE_KEYS } from '../lambda/ledger';
import { killOnExit } from './exit-cleanup';
import { freePort, LOOPBACK_HOST } from './ports';

/** How long dynalite may take to print that it listens (it usually takes ~300 ms). */
export const DYNALITE_START_TIMEOUT_MS = 15_000;
/** How long `stop()` waits after SIGTERM before SIGKILL. */
export const DYNALITE_STOP_TIMEOUT_MS = 3_000;
/** Fresh ports tried when the chosen one was taken before dynalite could bind it. */
const START_ATTEMPTS = 3;
/** DescribeTable calls before a new table must be ACTIVE (with `--createTableMs 0`, the first). */
const TABLE_ACTIVE_ATTEMPTS = 50;

/** A dynalite process (an in-memory DynamoDB) on 127.0.0.1. */
export interface Dynalite {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Configuration for a real SDK client against this dynalite (fixed fake credentials, no env). */
  readonly clientConfig: DynamoDBClientConfig;
  /** A new client against this dynalite; the caller destroys it. */
  client(): DynamoDBClient;
  /** Creates a ledger table (the key schema of `LEDGER_TABLE_KEYS`) and resolves once it is ACTIVE. */
  createLedgerTable(name: string): Promise<void>;
  /** The captured output, for failed tests. */
  logs(): string;
  /** SIGTERM, then SIGKILL after {@link DYNALITE_STOP_TIMEOUT_MS}. */
  stop(): Promise<void>;
}

/**
 * Starts `node node_modules/dynalite/cli.js` on a free 127.0.0.1 port, recorded for the global
 * teardown (like the registry processes), and resolves once it says it listens.
 */
export async function startDynalite(): Promise<Dynalite> {
  const cli = require.resolve('dynalite/cli.js');
  let output = '';
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [cli, '--host', LOOPBACK_HOST, '--port', String(port), '--createTableMs', '0', '--deleteTableMs', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    killOnExit(child);
    child.unref();
    const append = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    for (const stream of [child.stdout, child.stderr])
      (stream as unknown as { unref?: () => void })?.unref?.();
    try {
      await listening(child, () => output);
    } catch (error) {
      await terminate(child);
      if (attempt < START_ATTEMPTS && /EADDRINUSE/.test(output)) continue;
      throw new Error(`dynalite did not start: ${(error as Error).message}\n--- output ---\n${output}`, {
        cause: error,
      });
    }
    const endpoint = `http://${LOOPBACK_HOST}:${port}`;
    const clientConfig: DynamoDBClientConfig = {
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'dynalite', secretAccessKey: 'dynalite' },
      maxAttempts: 1,
    };
    return {
      endpoint,
      clientConfig,
      client: () => new DynamoDBClient(clientConfig),
      createLedgerTable: async (name) => {
        const client = new DynamoDBClient(clientConfig);
        try {
          await client.send(
            new CreateTableCommand({
              TableName: name,
              BillingMode: 'PAY_PER_REQUEST',
              AttributeDefinitions: [
                {
                  AttributeName: LEDGER_TABLE_KEYS.partitionKey.name,
                  AttributeType: LEDGER_TABLE_KEYS.partitionKey.type,
                },
                {
                  AttributeName: LEDGER_TABLE_KEYS.sortKey.name,
                  AttributeType: LEDGER_TABLE_KEYS.sortKey.type,
                },
              ],
              KeySchema: [
                { AttributeName: LEDGER_TABLE_KEYS.partitionKey.name, KeyType: 'HASH' },
                { AttributeName: LEDGER_TABLE_KEYS.sortKey.name, KeyType: 'RANGE' },
              ],
            }),
          );
          for (let check = 1; ; check += 1) {
            const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
            if (Table?.TableStatus === 'ACTIVE') return;
            if (check >= TABLE_ACTIVE_ATTEMPTS)
              throw new Error(`table ${name} is still ${Table?.TableStatus}`);
          }
        } finally {
          client.destroy();
        }
      },
      logs: () => output,
      stop: () => terminate(child),
    };
  }
}

/** Resolves when dynalite prints its "listening" line; rejects when it exits or times out first. */
function listening(child: ChildProcess, output: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`no "listening" line within ${DYNALITE_START_TIMEOUT_MS} ms`)),
      DYNALITE_START_TIMEOUT_MS,
    );
    const onData = () => {
      if (/Dynalite listening at/.test(output())) finish();
    };
    const onExit = (code: number | null, signal: string | null) =>
      finish(new Error(`the process exited (code ${code}, signal ${signal})`));
    const finish = (error?: Error) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), DYNALITE_STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
