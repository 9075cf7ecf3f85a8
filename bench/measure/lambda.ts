import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { build, type Metafile } from 'esbuild';

import { PROJECT_ROOT } from '../options';
import { BENCH_POLICY } from '../seed/scenario';
import { median } from '../stats';

export const HANDLERS = ['webhook', 'worker', 'sweep'] as const;
export type HandlerName = (typeof HANDLERS)[number];

/** One handler bundle and its cold import. */
export interface LambdaColdStart {
  readonly handler: HandlerName;
  readonly bundleBytes: number;
  readonly sourceMapBytes: number;
  /** `require()` of the bundle in a fresh Node process (the AWS SDK loaded from node_modules). */
  readonly importMs: readonly number[];
  readonly importMsMedian: number;
  /** Spawn to exit of that process: Node's own start-up plus the import. */
  readonly processMsMedian: number;
  /** Sockets the import tried to open and DNS lookups it made: must be 0. */
  readonly connectAttempts: number;
  /** Minified bytes by package (or project folder), largest first: what to trim. */
  readonly largestInputs: ReadonlyArray<{ input: string; bytes: number }>;
}

/** How many of a bundle's largest contributors the report lists. */
const LARGEST_INPUTS = 5;

const IMPORT_TIMEOUT_MS = 30_000;

/**
 * The environment of the Lambda contract (DESIGN.md); nothing points anywhere reachable:
 * port 9 on loopback is the discard port, and an import must not call it anyway.
 */
const LAMBDA_ENV = {
  REGSWEEP_REGISTRY: 'http://127.0.0.1:9',
  REGSWEEP_POLICY: JSON.stringify(BENCH_POLICY),
  REGSWEEP_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x',
  REGSWEEP_QUEUE_URL: 'http://127.0.0.1:9/123456789012/q.fifo',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
};

/**
 * Imports one bundle and reports how long `require` took and whether anything tried the
 * network (net.Socket#connect and dns.lookup are counted, through a grace period after import).
 */
const IMPORT_PROBE_SOURCE = `'use strict';
const net = require('node:net');
const dns = require('node:dns');
let attempts = 0;
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) { attempts += 1; return connect.apply(this, args); };
const lookup = dns.lookup;
dns.lookup = function (...args) { attempts += 1; return lookup.apply(this, args); };
const started = process.hrtime.bigint();
const handler = require(process.argv[2]).handler;
const importMs = Number(process.hrtime.bigint() - started) / 1e6;
if (typeof handler !== 'function') throw new Error('the bundle exports no handler function');
setTimeout(() => process.stdout.write(JSON.stringify({ importMs, attempts })), 100);
`;

/**
 * Bundles each handler the way the CDK does (lib/cleaner-function.ts BUNDLING: esbuild, platform
 * node, target node22, minified, CommonJS, source map without sources, `@aws-sdk/*` external as
 * the Node 22 runtime provides it) and imports it `repeats` times, each in a fresh process.
 */
export async function measureLambdaColdStarts(repeats: number): Promise<LambdaColdStart[]> {
  const dir = mkdtempSync(join(tmpdir(), 'regsweep-bench-lambda-'));
  try {
    const probe = join(dir, 'import-probe.cjs');
    writeFileSync(probe, IMPORT_PROBE_SOURCE);
    const results: LambdaColdStart[] = [];
    for (const handler of HANDLERS) {
      const outfile = join(dir, handler, 'index.js');
      const { metafile } = await build({
        entryPoints: [join(PROJECT_ROOT, 'lambda', 'handlers', `${handler}.ts`)],
        metafile: true,
        outfile,
        bundle: true,
        platform: 'node',
        target: 'node22',
        format: 'cjs',
        minify: true,
        sourcemap: true,
        sourcesContent: false,
        external: ['@aws-sdk/*'],
        logLevel: 'warning',
      });
      const importMs: number[] = [];
      const processMs: number[] = [];
      let connectAttempts = 0;
      for (let run = 0; run < repeats; run += 1) {
        const started = performance.now();
        const output = await new Promise<string>((resolve, reject) => {
          execFile(
            process.execPath,
            [probe, outfile],
            {
              // The runtime provides the AWS SDK; here it comes from the project's node_modules.
              env: {
                PATH: process.env.PATH ?? '',
                NODE_PATH: join(PROJECT_ROOT, 'node_modules'),
                ...LAMBDA_ENV,
              },
              timeout: IMPORT_TIMEOUT_MS,
            },
            (error, stdout, stderr) =>
              error ? reject(new Error(`${handler}: ${stderr || error.message}`)) : resolve(stdout),
          );
        });
        processMs.push(performance.now() - started);
        const measured = JSON.parse(output) as { importMs: number; attempts: number };
        importMs.push(measured.importMs);
        connectAttempts += measured.attempts;
      }
      results.push({
        handler,
        bundleBytes: statSync(outfile).size,
        sourceMapBytes: statSync(`${outfile}.map`).size,
        importMs,
        importMsMedian: median(importMs),
        processMsMedian: median(processMs),
        connectAttempts,
        largestInputs: largestInputs(metafile),
      });
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The bundle's bytes grouped by npm package (or project folder), largest first. */
function largestInputs(metafile: Metafile): Array<{ input: string; bytes: number }> {
  const bytes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [file, input] of Object.entries(output.inputs)) {
      const name =
        /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? file.split('/').slice(0, 2).join('/');
      bytes.set(name, (bytes.get(name) ?? 0) + input.bytesInOutput);
    }
  }
  return [...bytes]
    .map(([input, size]) => ({ input, bytes: size }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, LARGEST_INPUTS);
}
