import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PROJECT_ROOT } from '../options';
import { onCpu } from './pinning';
import { elapsedMs } from '../stats';

/** The CLI as users run it: the esbuild bundle that `npm run build` writes. */
export const CLI_BUNDLE = join(PROJECT_ROOT, 'dist', 'regsweep.js');
/** A plan or sweep of the default bench takes well under a minute; this only stops a hang. */
const CLI_TIMEOUT_MS = 300_000;

/**
 * Preloaded into the CLI's process (`node --require`): at exit it writes the process's peak RSS
 * and CPU time, the TCP connections undici opened, and every request undici sent, by kind (the
 * kinds of `RegistryClient.stats`, told apart by method and path; another origin is a token
 * service), to the file named by BENCH_PROBE_FILE. undici publishes on Node's diagnostics
 * channels from every copy of itself, the bundled one included.
 */
const PROBE_SOURCE = `'use strict';
const { writeFileSync } = require('node:fs');
const channels = require('node:diagnostics_channel');
const registry = process.env.BENCH_REGISTRY_ORIGIN;
const byKind = {};
let connections = 0;
function kindOf(origin, method, path) {
  if (new URL(String(origin)).origin !== registry) return 'token';
  const route = path.split('?')[0];
  if (route === '/v2/') return 'ping';
  if (route === '/v2/_catalog') return 'catalog';
  if (route.endsWith('/tags/list')) return 'tags';
  if (route.includes('/blobs/uploads/')) return 'upload-blob';
  if (/\\/referrers\\/[^/]+$/.test(route)) return 'referrers';
  const manifest = { HEAD: 'head-manifest', GET: 'get-manifest', PUT: 'put-manifest', DELETE: 'delete-manifest' };
  if (/\\/manifests\\/[^/]+$/.test(route) && manifest[method]) return manifest[method];
  const blob = { HEAD: 'head-blob', GET: 'get-blob' };
  if (/\\/blobs\\/[^/]+$/.test(route) && blob[method]) return blob[method];
  return 'other';
}
channels.subscribe('undici:client:connected', () => { connections += 1; });
channels.subscribe('undici:request:create', ({ request }) => {
  const kind = kindOf(request.origin, request.method, request.path);
  byKind[kind] = (byKind[kind] || 0) + 1;
});
process.once('exit', () => {
  const usage = process.resourceUsage();
  writeFileSync(process.env.BENCH_PROBE_FILE, JSON.stringify({
    maxRssKiB: usage.maxRSS,
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    connections,
    byKind,
  }));
});
`;

/** One CLI run, measured from outside (wall) and inside (the probe). */
export interface CliRun {
  readonly exitCode: number;
  readonly wallMs: number;
  readonly maxRssMiB: number;
  /** User + system CPU of the CLI process. */
  readonly cpuSeconds: number;
  /** TCP connections the CLI opened (keep-alive reuse shows here). */
  readonly connections: number;
  /** Requests sent (every attempt), by `RegistryClient.stats` kind. */
  readonly byKind: Readonly<Record<string, number>>;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node dist/regsweep.js <args>` in a fresh process with the probe preloaded; wall time is
 * from spawn to exit, so it includes Node's start-up, as a user sees it. With `cpu`, the process
 * runs pinned to that CPU (`taskset -c`, which execs node: the probe still measures node alone).
 */
export async function runCli(
  registry: string,
  args: readonly string[],
  options: { readonly cpu?: number } = {},
): Promise<CliRun> {
  const dir = mkdtempSync(join(tmpdir(), 'regsweep-bench-cli-'));
  const probe = join(dir, 'probe.cjs');
  const probeFile = join(dir, 'probe.json');
  writeFileSync(probe, PROBE_SOURCE);
  try {
    const started = performance.now();
    const { exitCode, stdout, stderr } = await new Promise<{
      exitCode: number;
      stdout: string;
      stderr: string;
    }>((resolve, reject) => {
      const [command, commandArgs] = onCpu(options.cpu, process.execPath, [
        '--require',
        probe,
        CLI_BUNDLE,
        ...args,
      ]);
      const child = spawn(command, commandArgs, {
        env: {
          PATH: process.env.PATH ?? '',
          BENCH_PROBE_FILE: probeFile,
          BENCH_REGISTRY_ORIGIN: new URL(registry).origin,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: CLI_TIMEOUT_MS,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.once('error', reject);
      child.once('close', (code) =>
        resolve({
          exitCode: code ?? -1,
          stdout: Buffer.concat(out).toString(),
          stderr: Buffer.concat(err).toString(),
        }),
      );
    });
    const wallMs = elapsedMs(started);
    const measured = JSON.parse(readFileSync(probeFile, 'utf8')) as {
      maxRssKiB: number;
      cpuSeconds: number;
      connections: number;
      byKind: Record<string, number>;
    };
    return {
      exitCode,
      wallMs,
      maxRssMiB: measured.maxRssKiB / 1024,
      cpuSeconds: measured.cpuSeconds,
      connections: measured.connections,
      byKind: measured.byKind,
      stdout,
      stderr,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
