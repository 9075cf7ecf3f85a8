import { spawn, type ChildProcess } from 'node:child_process';

import { makeTempDir } from '../../tools/exit-cleanup';
import { watchOutput, type ChildOutput } from './child-output';
import { CLI_PATH } from './cli';

/** A `regsweep serve` child process, started and listening. */
export interface ServeProcess {
  /** `http://127.0.0.1:<port>`: POST /webhook, GET /healthz. */
  readonly url: string;
  readonly child: ChildProcess;
  /** Its stdout and stderr; await a log line with `output.logged(pattern)`. */
  readonly output: ChildOutput;
  /** Sends SIGTERM (or `signal`) and resolves with the exit code once it has exited. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface ServeOptions {
  readonly registry: string;
  /** The policy file. */
  readonly policy: string;
  readonly webhookToken: string;
  /** The port to listen on; 0 (the default) lets the system choose. */
  readonly port?: number;
  /** More variables for the child (credentials); PATH is passed, nothing else of ours. */
  readonly env?: Readonly<Record<string, string>>;
  /** More arguments after the usual ones (e.g. `--dry-run`). */
  readonly args?: readonly string[];
}

/**
 * Spawns the built CLI's `serve` in a fresh temporary working directory (so nothing it writes by
 * default lands in the checkout) and resolves once its startup line says where it listens: an
 * awaited log line, not a poll of /healthz. Fails with the output when it exits first.
 */
export async function startServe(options: ServeOptions): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [
      CLI_PATH,
      'serve',
      '--registry',
      options.registry,
      '--policy',
      options.policy,
      '--port',
      String(options.port ?? 0),
      ...(options.args ?? []),
    ],
    {
      cwd: makeTempDir('regsweep-serve-cwd-'),
      env: { PATH: process.env.PATH ?? '', REGSWEEP_WEBHOOK_TOKEN: options.webhookToken, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output = watchOutput(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = /regsweep serve: POST (http:\/\/127\.0\.0\.1:\d+)\/webhook/;
  await output.logged(started);
  const url = started.exec(output.text)?.[1];
  if (!url) {
    child.kill('SIGKILL');
    throw new Error(`serve did not start:\n${output.text}`);
  }
  return {
    url,
    child,
    output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
