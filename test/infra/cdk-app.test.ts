import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const CDK = path.join(ROOT, 'node_modules', '.bin', 'cdk');

/**
 * True when this process may run a command in a new network namespace (root on Linux): then the
 * synth runs with no network at all, loopback included, which proves it needs none.
 */
/** The CLI, tsx and three esbuild runs: ~8 s alone, several times that next to other suites. */
const SYNTH_TIMEOUT_MS = 150_000;

const CAN_ISOLATE_NETWORK = spawnSync('unshare', ['-n', 'true']).status === 0;

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CDK CLI in the project root, as a user would: `npx cdk synth ...`. */
function cdk(args: string[], options: { offline?: boolean } = {}): Promise<CliResult> {
  const [command, commandArgs] =
    options.offline && CAN_ISOLATE_NETWORK ? ['unshare', ['-n', CDK, ...args]] : [CDK, args];
  return new Promise((resolve) => {
    execFile(
      command,
      commandArgs,
      // A CI may set these; the app must work from cdk.json alone.
      {
        cwd: ROOT,
        env: { ...process.env, CDK_CONTEXT_JSON: undefined, CDK_OUTDIR: undefined },
        maxBuffer: 64 << 20,
      },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ status, stdout, stderr });
      },
    );
  });
}

describe('CDK app: bin/app.ts with cdk.json', () => {
  const outdir = mkdtempSync(path.join(tmpdir(), 'regsweep-cdk-cli-'));

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it(
    `synthesizes with the example context${CAN_ISOLATE_NETWORK ? ' without any network' : ''}, passing cdk-nag`,
    async () => {
      // Act
      const result = await cdk(['synth', '--quiet', '--output', outdir], { offline: true });

      // Assess: a template with the three bundled functions, and a clean validation report.
      expect(result.stderr).not.toMatch(/Error|ERROR/);
      expect(result.status).toBe(0);
      const template = JSON.parse(readFileSync(path.join(outdir, 'Regsweep.template.json'), 'utf8')) as {
        Resources: Record<
          string,
          { Type: string; Properties: { Environment?: { Variables: Record<string, unknown> } } }
        >;
      };
      const functions = Object.values(template.Resources).filter(
        (resource) => resource.Type === 'AWS::Lambda::Function',
      );
      expect(functions).toHaveLength(3);
      for (const fn of functions) {
        expect(fn.Properties.Environment?.Variables.REGSWEEP_REGISTRY).toBe('https://registry.example.com');
      }
      const assets = JSON.parse(readFileSync(path.join(outdir, 'Regsweep.assets.json'), 'utf8')) as {
        files: Record<string, { source: { path: string } }>;
      };
      const bundles = Object.values(assets.files)
        .map((file) => path.join(outdir, file.source.path, 'index.js'))
        .filter((file) => existsSync(file));
      expect(bundles).toHaveLength(3);
      const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
        pluginReports: unknown[];
      };
      expect(report.pluginReports).toEqual([]);
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'fails the synth with the policy error, naming each field, before bundling anything',
    async () => {
      // Act
      const result = await cdk([
        'synth',
        '--quiet',
        '--output',
        outdir,
        '-c',
        'policy=test/fixtures/policies/invalid-many.yaml',
      ]);

      // Assess
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('invalid regsweep configuration:');
      expect(result.stderr).toContain('policy (test/fixtures/policies/invalid-many.yaml): rules[0].keep: ');
      expect(result.stderr).toContain(
        'policy (test/fixtures/policies/invalid-many.yaml): limits.maxDeletesPerRun: ',
      );
      expect(result.stderr).not.toContain('Bundling asset');
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'fails the synth naming a bad context value',
    async () => {
      // Act
      const result = await cdk(['synth', '--quiet', '--output', outdir, '-c', 'dryRun=perhaps']);

      // Assess
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('-c dryRun: expected true or false, got "perhaps"');
    },
    SYNTH_TIMEOUT_MS,
  );
});
