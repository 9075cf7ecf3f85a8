import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** The bundled CLI, built by jest's global setup (`scripts/build.mjs`). */
export const CLI_PATH = join(__dirname, '..', '..', 'dist', 'regsweep.js');

export interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `regsweep ...args` as a user would: a separate node process, the built bundle, a clean
 * environment (only PATH and what the test passes), stdin closed; killed after `timeoutMs`
 * (default 60 s).
 */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  options: { timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI_PATH, ...args],
      {
        env: { PATH: process.env.PATH ?? '', ...env },
        maxBuffer: 64 * 1024 * 1024,
        timeout: options.timeoutMs ?? 60_000,
      },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ status, stdout, stderr });
      },
    );
  });
}
