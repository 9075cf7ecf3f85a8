import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { TestApp } from './synth';

const ROOT = path.join(__dirname, '..', '..', '..');
const RUNNER = path.join(__dirname, 'invoke-bundle.js');
const INVOKE_TIMEOUT_MS = 30_000;

/** One function of a synthesized stack, as Lambda would run it. */
export interface BundledFunction {
  readonly logicalId: string;
  /** The staged asset directory (what is zipped and uploaded). */
  readonly directory: string;
  /** `index.handler` */
  readonly handler: string;
  /** The function's environment, with each CloudFormation token replaced as asked. */
  readonly environment: Record<string, string>;
  /** Bytes of the bundle (`index.js`), without its source map. */
  readonly bundleBytes: number;
}

/** What one invocation in a fresh process gave. */
export interface Invocation {
  readonly importMs: number;
  readonly result?: unknown;
  readonly error?: { name: string; message: string };
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Finds a function of the template, its bundle in the cloud assembly and its environment.
 *
 * @param tokens - a value for each token in the environment, by the logical id it refers to; a
 *   token without one fails: the test must say where each reference points locally
 */
export function bundledFunction(
  testApp: TestApp,
  stack: Stack,
  template: Template,
  logicalId: string,
  tokens: Record<string, string>,
): BundledFunction {
  const properties = template.findResources('AWS::Lambda::Function')[logicalId].Properties as {
    Code: { S3Key: string };
    Handler: string;
    Environment: { Variables: Record<string, unknown> };
  };
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(properties.Environment.Variables)) {
    if (typeof value === 'string') {
      environment[name] = value;
      continue;
    }
    const target = (value as { Ref?: string }).Ref;
    const local = target === undefined ? undefined : tokens[target];
    if (local === undefined)
      throw new Error(`${logicalId}: no local value for ${name} = ${JSON.stringify(value)}`);
    environment[name] = local;
  }
  const directory = testApp.assetDirectory(stack, properties.Code.S3Key);
  return {
    logicalId,
    directory,
    handler: properties.Handler,
    environment,
    bundleBytes: statSync(path.join(directory, 'index.js')).size,
  };
}

/** The module specifiers a bundle `require`s at all (literal `require("...")` calls). */
export function requiredModules(fn: BundledFunction): string[] {
  const text = readFileSync(path.join(fn.directory, 'index.js'), 'utf8');
  return [...new Set([...text.matchAll(/\brequire\("([^"]+)"\)/g)].map((match) => match[1]))].sort();
}

/**
 * A `NODE_PATH` directory holding only `@aws-sdk`, like the Lambda Node.js runtime's
 * `/var/runtime/node_modules`: a bundle that needs any other package fails to load.
 */
export class LambdaRuntimeModules {
  public readonly directory = mkdtempSync(path.join(tmpdir(), 'regsweep-runtime-'));

  public constructor() {
    mkdirSync(path.join(this.directory, 'node_modules'));
    symlinkSync(
      path.join(ROOT, 'node_modules', '@aws-sdk'),
      path.join(this.directory, 'node_modules', '@aws-sdk'),
    );
  }

  public get nodePath(): string {
    return path.join(this.directory, 'node_modules');
  }

  public dispose(): void {
    rmSync(this.directory, { recursive: true, force: true });
  }
}

/**
 * Invokes a bundled handler once in a fresh Node process with only the given environment (plus
 * PATH), as the Lambda runtime would, and returns what it gave.
 *
 * @param event - the path of an event file, or the event itself
 */
export async function invokeBundle(
  fn: BundledFunction,
  event: string | Record<string, unknown>,
  environment: Record<string, string>,
): Promise<Invocation> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'regsweep-invoke-'));
  const resultFile = path.join(scratch, 'result.json');
  let eventFile = event as string;
  if (typeof event !== 'string') {
    eventFile = path.join(scratch, 'event.json');
    writeFileSync(eventFile, JSON.stringify(event));
  }
  try {
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      execFile(
        process.execPath,
        [RUNNER, fn.directory, fn.handler, eventFile, resultFile],
        {
          env: { PATH: process.env.PATH ?? '', ...fn.environment, ...environment },
          timeout: INVOKE_TIMEOUT_MS,
          maxBuffer: 16 << 20,
        },
        (error, out, err) => {
          // A handler error is a result too (exit 1 with a result file); a crash has no file.
          if (error && error.code !== 1)
            reject(new Error(`${fn.logicalId} crashed: ${error.message}\n${err}`));
          else resolve({ stdout: out, stderr: err });
        },
      );
    });
    let outcome: Omit<Invocation, 'stdout' | 'stderr'>;
    try {
      outcome = JSON.parse(readFileSync(resultFile, 'utf8')) as Omit<Invocation, 'stdout' | 'stderr'>;
    } catch {
      throw new Error(`${fn.logicalId} wrote no result:\n${stderr}`);
    }
    return { ...outcome, stdout, stderr };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The JSON objects a process printed, one per line (Powertools logs and EMF metrics). */
export function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
