import { join } from 'node:path';

import { build } from 'esbuild';

/**
 * Bundles a bench child script (`bench/measure/<name>.ts`) into `dir` as `<name>.js`, one CommonJS
 * file for Node 20, so that it runs in a fresh process without tsx; returns the bundle's path.
 */
export async function bundleChild(name: string, dir: string): Promise<string> {
  const bundle = join(dir, `${name}.js`);
  await build({
    entryPoints: [join(__dirname, `${name}.ts`)],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
  });
  return bundle;
}
