import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

import { htpasswdLine } from './htpasswd';
import { killOnExit, makeTempDir, removeTempDir } from './exit-cleanup';
import { freePort, LOOPBACK_HOST } from './ports';
import {
  INSTANCE_HEADER,
  registryConfigYaml,
  type NotificationEndpoint,
  type TokenAuthSettings,
} from './registry-config';

export type { NotificationEndpoint, TokenAuthSettings } from './registry-config';

/** How long a registry may take to answer `GET /v2/` after spawning (it usually takes ~50 ms). */
export const REGISTRY_START_TIMEOUT_MS = 10_000;
/** How long `stop()` waits after SIGTERM before SIGKILL (plus the drain timeout, when set). */
export const REGISTRY_STOP_TIMEOUT_MS = 3_000;
const READY_POLL_INTERVAL_MS = 20;
/** Fresh ports tried when the chosen one was taken before the registry could bind it. */
const START_ATTEMPTS = 3;
const GARBAGE_COLLECT_TIMEOUT_MS = 60_000;
/** Keep the tail of the registry's output only: enough to debug, bounded for long benches. */
const MAX_LOG_CHARS = 256 * 1024;

/** How to start a registry. Every field is optional. */
export interface RegistryProcessOptions {
  /** `storage.delete.enabled`. @default true */
  deleteEnabled?: boolean;
  /** Turns on `auth.htpasswd` with this one user (bcrypt entry written by the harness). */
  htpasswd?: { username: string; password: string };
  /** Turns on `auth.token` (see `startTokenIssuer`). */
  token?: TokenAuthSettings;
  /** `catalog.maxentries`: the page size of `_catalog` when the client sends no `n`. */
  catalogMaxEntries?: number;
  /**
   * `http.draintimeout` (Go duration, e.g. '5s'): on SIGTERM the registry finishes the requests
   * it is serving before it exits. Without it, a request cut off mid-way can leave the storage
   * half-changed (a digest DELETE stopped between deleting the manifest and its tags).
   */
  drainTimeout?: string;
  /** `notifications.endpoints`: loopback URLs only. */
  notifications?: NotificationEndpoint[];
  /** Reuse this storage directory (it is then never removed by `stop()`). */
  storageDir?: string;
  /** @default a free port on 127.0.0.1 */
  port?: number;
  /** @default 'warn' */
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
}

/** A running `docker-registry serve` process on 127.0.0.1. */
export interface RegistryProcess {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly storageDir: string;
  readonly configPath: string;
  /** The captured stdout and stderr of every run of this registry (for failed tests). */
  logs(): string;
  /**
   * SIGTERM, wait for exit, SIGKILL after {@link REGISTRY_STOP_TIMEOUT_MS}; then removes the
   * config dir and, unless `keepStorage` (or the storage dir was passed in), the storage dir:
   * pass a kept `storageDir` to a new `startRegistry` to bring the same content back.
   */
  stop(options?: { keepStorage?: boolean }): Promise<void>;
  /** Stops and starts again on the same port, config and storage. */
  restart(): Promise<void>;
  /**
   * Runs `docker-registry garbage-collect <config>` (offline GC: call it on a stopped registry
   * or accept that uploads racing with it may lose blobs) and returns its combined output.
   */
  garbageCollect(options?: { deleteUntagged?: boolean; dryRun?: boolean }): Promise<string>;
}

/** Error thrown when the registry binary is missing, does not start, or garbage-collect fails. */
export class RegistryProcessError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryProcessError';
  }
}

/** The path of `docker-registry` (Debian) or `registry` (upstream) on PATH, if any. */
export function registryBinary(): string | undefined {
  const directories = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of ['docker-registry', 'registry']) {
    for (const directory of directories) {
      const candidate = join(directory, name);
      if (existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

/** Starts a registry and resolves once `GET /v2/` answers 200 or 401. */
export async function startRegistry(options: RegistryProcessOptions = {}): Promise<RegistryProcess> {
  // A draining registry gets its whole drain time: a SIGKILL mid-DELETE leaves dangling tags.
  const stopGraceMs = REGISTRY_STOP_TIMEOUT_MS + goDurationMs(options.drainTimeout);
  const binary = registryBinary();
  if (!binary) {
    throw new RegistryProcessError(
      'no docker-registry or registry binary on PATH (apt-get install docker-registry)',
    );
  }
  const configDir = makeTempDir('regsweep-registry-config-');
  const ownsStorage = options.storageDir === undefined;
  const storageDir = options.storageDir ?? makeTempDir('regsweep-registry-storage-');
  await mkdir(storageDir, { recursive: true });
  const removeDirs = async (keepStorage: boolean): Promise<void> => {
    await removeTempDir(configDir);
    if (ownsStorage && !keepStorage) await removeTempDir(storageDir);
  };

  let htpasswdPath: string | undefined;
  if (options.htpasswd) {
    htpasswdPath = join(configDir, 'htpasswd');
    await writeFile(htpasswdPath, `${htpasswdLine(options.htpasswd.username, options.htpasswd.password)}\n`, {
      mode: 0o600,
    });
  }
  const configPath = join(configDir, 'config.yml');
  const instanceId = randomBytes(8).toString('hex');
  const secret = randomBytes(16).toString('hex');
  const writeConfig = async (port: number): Promise<void> => {
    const yaml = registryConfigYaml({
      port,
      instanceId,
      storageDir,
      secret,
      deleteEnabled: options.deleteEnabled ?? true,
      logLevel: options.logLevel ?? 'warn',
      ...(htpasswdPath && { htpasswdPath }),
      ...(options.token && { token: options.token }),
      ...(options.catalogMaxEntries !== undefined && { catalogMaxEntries: options.catalogMaxEntries }),
      ...(options.drainTimeout !== undefined && { drainTimeout: options.drainTimeout }),
      ...(options.notifications && { notifications: options.notifications }),
    });
    await writeFile(configPath, yaml, { mode: 0o600 });
  };

  let port!: number;
  let url!: string;
  let output = '';
  const appendLog = (chunk: Buffer | string): void => {
    output += chunk.toString();
    if (output.length > MAX_LOG_CHARS) output = output.slice(-MAX_LOG_CHARS);
  };
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    appendLog(`--- docker-registry serve ${configPath}\n`);
    const spawned = spawn(binary, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = spawned;
    killOnExit(spawned);
    // A test that forgets stop() must not hold the jest worker open: the exit hook kills it.
    spawned.unref();
    for (const stream of [spawned.stdout, spawned.stderr]) {
      stream?.on('data', appendLog);
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
    }
    spawned.once('exit', (code, signal) => {
      appendLog(`--- exited (code ${code}, signal ${signal})\n`);
    });
    try {
      await waitUntilReady(url, spawned, instanceId);
    } catch (error) {
      await terminate(spawned);
      throw new RegistryProcessError(
        `registry on ${url} did not start: ${(error as Error).message}\n--- logs ---\n${output}`,
        { cause: error },
      );
    }
  };

  const stopChild = async (): Promise<void> => {
    if (child) await terminate(child, stopGraceMs);
    child = undefined;
  };

  // Another process can take a port between freePort() and the registry binding it; then the
  // registry exits with "address already in use" and a fresh port is tried.
  for (let attempt = 1; ; attempt += 1) {
    port = options.port ?? (await freePort());
    url = `http://${LOOPBACK_HOST}:${port}`;
    const logStart = output.length;
    try {
      await writeConfig(port);
      await launch();
      break;
    } catch (error) {
      const portTaken = /address already in use/.test(output.slice(logStart));
      if (options.port !== undefined || !portTaken || attempt >= START_ATTEMPTS) {
        await removeDirs(false);
        throw error;
      }
    }
  }

  return {
    url,
    port,
    storageDir,
    configPath,
    logs: () => output,
    stop: async ({ keepStorage = false } = {}) => {
      await stopChild();
      await removeDirs(keepStorage);
    },
    restart: async () => {
      await stopChild();
      await launch();
    },
    garbageCollect: async ({ deleteUntagged = false, dryRun = false } = {}) => {
      const args = [
        'garbage-collect',
        ...(deleteUntagged ? ['--delete-untagged'] : []),
        ...(dryRun ? ['--dry-run'] : []),
      ];
      return new Promise<string>((resolve, reject) => {
        execFile(
          binary,
          [...args, configPath],
          { timeout: GARBAGE_COLLECT_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
          (error, stdout, stderr) => {
            const combined = `${stdout}${stderr}`;
            if (error)
              reject(new RegistryProcessError(`garbage-collect failed: ${combined}`, { cause: error }));
            else resolve(combined);
          },
        );
      });
    },
  };
}

/**
 * Polls `GET /v2/` until this very process answers: the instance header tells it apart from
 * another registry that grabbed the port first (this one then exits with "address in use").
 */
async function waitUntilReady(url: string, child: ChildProcess, instanceId: string): Promise<void> {
  const deadline = Date.now() + REGISTRY_START_TIMEOUT_MS;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the process exited (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    try {
      const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      const instance = response.headers.get(INSTANCE_HEADER);
      if (instance !== instanceId) {
        lastProblem = `another process answers on this port (instance ${instance ?? 'none'})`;
      } else if (response.status === 200 || response.status === 401) {
        return;
      } else {
        lastProblem = `GET /v2/ answered ${response.status}`;
      }
    } catch (error) {
      lastProblem = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_INTERVAL_MS));
  }
  throw new Error(`no 200/401 from GET /v2/ within ${REGISTRY_START_TIMEOUT_MS} ms (${lastProblem})`);
}

async function terminate(child: ChildProcess, graceMs = REGISTRY_STOP_TIMEOUT_MS): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Milliseconds of a simple Go duration (`5s`, `500ms`, `1m`); 0 when absent. */
function goDurationMs(duration: string | undefined): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(duration ?? '');
  if (!match) {
    if (duration !== undefined) throw new RegistryProcessError(`unsupported drain timeout '${duration}'`);
    return 0;
  }
  const unitMs = { ms: 1, s: 1_000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
  return Number(match[1]) * unitMs;
}
