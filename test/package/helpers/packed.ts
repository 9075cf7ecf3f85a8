import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.join(__dirname, '..', '..', '..');
/** Top-level entries of the repository that a fresh checkout's build does not need. */
const NOT_STAGED = new Set(['node_modules', 'dist', 'cdk.out', 'coverage', '.git', 'test', 'bench']);

export interface CommandResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Variables a CI or `npm test` may set that a user's shell would not have. */
const NOT_INHERITED = /^(npm_.*|INIT_CWD|CDK_CONTEXT_JSON|CDK_OUTDIR)$/i;

/**
 * The environment for a child npm, node or cdk: this one without what `npm test` sets (an
 * inherited `npm_config_*` would change what the child npm does) or a CI's CDK overrides.
 */
export function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !NOT_INHERITED.test(name)));
}

/** Runs a command to its end and reports how it went and how long it took (never rejects). */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<CommandResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? userEnv(),
        timeout: options.timeoutMs ?? 300_000,
        maxBuffer: 64 << 20,
      },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ status, stdout, stderr, ms: Math.round(performance.now() - started) });
      },
    );
  });
}

/** Fails with the command's output when it did not exit 0. */
export function succeeded(what: string, result: CommandResult): CommandResult {
  if (result.status !== 0)
    throw new Error(`${what} exited ${result.status}\n${result.stderr}\n${result.stdout}`.slice(0, 8000));
  return result;
}

/**
 * A copy of the repository as a fresh checkout has it (sources, scripts, configs; no dist/, no
 * tests), sharing this checkout's node_modules: `npm pack` there runs the `prepack` build from
 * scratch and never touches this checkout's dist/, which other test files run meanwhile.
 */
export function stageCheckout(directory: string): string {
  mkdirSync(directory, { recursive: true });
  cpSync(ROOT, directory, {
    recursive: true,
    filter: (source) => !NOT_STAGED.has(path.relative(ROOT, source).split(path.sep)[0]),
  });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(directory, 'node_modules'));
  return directory;
}

/** What `npm pack --json` says about the tarball. */
export interface PackReport {
  readonly filename: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly files: ReadonlyArray<{ path: string; size: number }>;
}

/** The report at the end of `npm pack --json` output (the prepack build may print before it). */
export function packReport(stdout: string): PackReport {
  const start = stdout.lastIndexOf('\n[');
  const [report] = JSON.parse(stdout.slice(start + 1)) as PackReport[];
  return report;
}

export const KIB = 1024;
export const kib = (bytes: number): string => `${(bytes / KIB).toFixed(0)} KiB`;
