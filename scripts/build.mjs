// Builds the package into dist/ with esbuild (fast; tsc --noEmit does the type check):
//   dist/regsweep.js            the CLI (`bin`), self-contained: only Node built-ins at run time
//   dist/index.js               `regsweep`: the engine API (its dependencies stay external)
//   dist/cdk.js                 `regsweep/cdk`: the construct (aws-cdk-lib, constructs: peers)
//   dist/handlers/<name>/       the three Lambda bundles the construct deploys
//   dist/types/                 the declarations of both entry points (tsc)
// `--cli` builds only the CLI (what the test suite runs, in its global setup); `--handlers` only the
// Lambda bundles; `--outdir DIR` writes to DIR instead of dist/.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outdirAt = args.indexOf('--outdir');
const DIST = outdirAt >= 0 ? path.resolve(args[outdirAt + 1]) : path.join(ROOT, 'dist');
const HANDLERS = ['webhook', 'worker', 'sweep'];

/**
 * Loaded lazily by the ledger, only when a ledger file is used; native, so it cannot be bundled.
 * An optional dependency of the package (see package.json).
 */
const NATIVE = ['better-sqlite3'];

const common = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  logLevel: 'warning',
};

async function buildCli() {
  const outfile = path.join(DIST, 'regsweep.js');
  await build({
    ...common,
    entryPoints: ['bin/regsweep.ts'],
    outfile,
    target: 'node20',
    external: NATIVE,
    sourcemap: true,
    sourcesContent: false,
    banner: { js: '#!/usr/bin/env node' },
  });
  chmodSync(outfile, 0o755);
}

/** The two library entry points: every package import stays a `require` of the installed package. */
function buildLibraries() {
  return Promise.all(
    [
      ['lambda/index.ts', 'index.js'],
      ['lib/index.ts', 'cdk.js'],
    ].map(([entry, out]) =>
      build({
        ...common,
        entryPoints: [entry],
        outfile: path.join(DIST, out),
        target: 'node20',
        packages: 'external',
        sourcemap: true,
        sourcesContent: false,
      }),
    ),
  );
}

/**
 * The Lambda bundles, with the options of `BUNDLING` in lib/cleaner-function.ts (what
 * `NodejsFunction` gives esbuild when the construct runs from its sources): minified, CommonJS for
 * Node 22, source map without the sources, the AWS SDK left to the Lambda runtime.
 */
function buildHandlers() {
  return Promise.all(
    HANDLERS.map((name) =>
      build({
        ...common,
        entryPoints: [`lambda/handlers/${name}.ts`],
        outfile: path.join(DIST, 'handlers', name, 'index.js'),
        target: 'node22',
        minify: true,
        sourcemap: true,
        sourcesContent: false,
        external: ['@aws-sdk/*'],
      }),
    ),
  );
}

function buildDeclarations() {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', path.join(DIST, 'types')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}

if (args.includes('--cli')) {
  await buildCli();
} else if (args.includes('--handlers')) {
  await buildHandlers();
} else {
  rmSync(DIST, { recursive: true, force: true });
  await Promise.all([buildCli(), buildLibraries(), buildHandlers()]);
  buildDeclarations();
}
