// Bundles the CLI into dist/regsweep.js with esbuild (fast; tsc --noEmit does the type check).
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

const outfile = 'dist/regsweep.js';
await build({
  entryPoints: ['bin/regsweep.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
