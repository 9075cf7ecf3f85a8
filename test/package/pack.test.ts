import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { listTagsRaw, pushImage } from '../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../tools/registry-process';
import { EXAMPLE_POLICY, logicalIdOf } from '../infra/helpers/synth';
import {
  ROOT,
  kib,
  packReport,
  run,
  stageCheckout,
  succeeded,
  userEnv,
  type PackReport,
} from './helpers/packed';

const HANDLERS = ['webhook', 'worker', 'sweep'] as const;
const CDK = path.join(ROOT, 'node_modules', '.bin', 'cdk');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
/** Each step (pack with its build, an install, a synth) alone; a loaded 2-core machine is slow. */
const STEP_TIMEOUT_MS = 300_000;
const DAY_MS = 86_400_000;
const daysAgo = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString();
/** Without a network namespace the synth still runs, but is not proven offline. */
const CAN_ISOLATE_NETWORK = spawnSync('unshare', ['-n', 'true']).status === 0;

/**
 * The flags of every install here. `--omit=optional` leaves out better-sqlite3 (the ledger's
 * optional dependency): on a machine without its prebuilt binary it compiles from source for
 * ~80 s, and nothing tested here uses a ledger. `--prefer-offline` takes what npm's cache has.
 */
const INSTALL_FLAGS = ['--omit=optional', '--prefer-offline', '--no-audit', '--no-fund'];

/** A user's ten-line CDK app: the construct from `regsweep/cdk`, cdk-nag's AwsSolutions checks. */
const CDK_APP = `import { App, CfnOutput, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RegistryCleaner } from 'regsweep/cdk';

const app = new App();
const stack = new Stack(app, 'Registry');
const cleaner = new RegistryCleaner(stack, 'RegistryCleaner', {
  registryUrl: 'https://registry.example.com',
  policy: 'policy.yaml',
});
new CfnOutput(stack, 'WebhookUrl', { value: cleaner.webhookUrl.url });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
`;

/** A user's script of the engine API: plans (removes nothing) and prints the plan JSON. */
const PLAN_SCRIPT = `import { loadPolicyFile, planRun, RegistryClient, type Plan } from 'regsweep';

async function main(): Promise<void> {
  const [registry, policyFile] = process.argv.slice(2);
  const client = new RegistryClient({ registry });
  try {
    const { plan }: { plan: Plan } = await planRun({ client, policy: loadPolicyFile(policyFile) });
    process.stdout.write(JSON.stringify(plan));
  } finally {
    await client.close();
  }
}
main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
`;

/** Type-checks and compiles a user's files with this repository's tsc, as a Node16 project would. */
function compile(cwd: string, files: string[]) {
  return run(
    process.execPath,
    [
      TSC,
      ...['--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', '--strict'],
      ...['--skipLibCheck', '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types')],
      ...files,
    ],
    { cwd },
  );
}

/**
 * The package as a user gets it: `npm pack` of a fresh copy of the repository (its `prepack`
 * builds dist/), installed into a new folder from the tarball, the CDK libraries from the npm
 * registry; then the CLI, a CDK app and an engine script, each run as a user would.
 */
describe('Package: npm pack, installed into a fresh folder', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'regsweep-pack-'));
  const project = path.join(work, 'project');
  const installed = path.join(project, 'node_modules', 'regsweep');
  const timings: string[] = [];
  let pack: PackReport;

  beforeAll(async () => {
    const checkout = stageCheckout(path.join(work, 'checkout'));
    const packed = succeeded(
      'npm pack',
      await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: checkout }),
    );
    pack = packReport(packed.stdout);
    timings.push(
      `npm pack (prepack build included): ${packed.ms} ms; ${pack.filename}: ${kib(pack.size)} packed, ` +
        `${kib(pack.unpackedSize)} unpacked, ${pack.files.length} files`,
    );

    mkdirSync(project);
    writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'regsweep-user', version: '1.0.0', private: true }),
    );
    const install = succeeded(
      'npm install <tarball>',
      await run('npm', ['install', path.join(work, pack.filename), ...INSTALL_FLAGS], { cwd: project }),
    );
    timings.push(`npm install regsweep (the tarball): ${install.ms} ms`);
  }, STEP_TIMEOUT_MS);

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
    console.log(`Package (npm pack, then a fresh install):\n  ${timings.join('\n  ')}`);
  });

  it('the tarball holds the built entry points, bundles and declarations, and no tests, fixtures, bench or scripts', () => {
    // Assess
    const files = pack.files.map((file) => file.path).sort();
    expect(files).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'package.json',
        'dist/regsweep.js',
        'dist/index.js',
        'dist/cdk.js',
        'dist/types/lambda/index.d.ts',
        'dist/types/lib/index.d.ts',
        'examples/policy.yaml',
        ...HANDLERS.map((name) => `dist/handlers/${name}/index.js`),
      ]),
    );
    const unexpected = files.filter(
      (file) =>
        !/^(LICENSE|README\.md|package\.json|examples\/[^/]+\.yaml)$/.test(file) &&
        !/^dist\/(regsweep|index|cdk)\.js(\.map)?$/.test(file) &&
        !/^dist\/handlers\/(webhook|worker|sweep)\/index\.js(\.map)?$/.test(file) &&
        !/^dist\/types\/(lambda|lib)\/.+\.d\.ts$/.test(file),
    );
    expect(unexpected).toEqual([]);
  });

  describe('without aws-cdk-lib and constructs (a CLI or engine API user)', () => {
    it('installs neither CDK library, nor the Lambda-only dependencies', () => {
      // Assess: the peers are optional, the AWS SDK and Powertools live only inside the bundles.
      for (const name of ['aws-cdk-lib', 'constructs', 'cdk-nag', '@aws-sdk', '@aws-lambda-powertools'])
        expect(existsSync(path.join(project, 'node_modules', name))).toBe(false);
    });

    it('npx regsweep --version prints the package version', async () => {
      // Act (`--no`: never fetch a package of that name from the registry, only run the installed bin)
      const result = await run('npx', ['--no', '--', 'regsweep', '--version'], { cwd: project });

      // Assess
      expect(result.stderr).toBe('');
      expect(result.stdout.trim()).toBe(version);
      expect(result.status).toBe(0);
    });

    it('npx regsweep validate accepts the shipped example policy and refuses a bad one with exit 2', async () => {
      // Prepare
      writeFileSync(path.join(project, 'bad-policy.yaml'), 'rules:\n  - tags: "(unclosed"\n    keep: -1\n');

      // Act
      const good = await run(
        'npx',
        ['--no', '--', 'regsweep', 'validate', '--policy', 'node_modules/regsweep/examples/policy.yaml'],
        { cwd: project },
      );
      const bad = await run('npx', ['--no', '--', 'regsweep', 'validate', '--policy', 'bad-policy.yaml'], {
        cwd: project,
      });

      // Assess
      expect(good.stderr).toBe('');
      expect(good.stdout).toContain('valid (2 rules: branch-builds, pull-requests; 3 protect patterns)');
      expect(good.status).toBe(0);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('rules[0].keep');
      expect(bad.stderr).toContain('rules[0].tags');
    });

    it(
      'an engine API script (TypeScript, type-checked against the shipped declarations) plans against a real registry',
      async () => {
        // Prepare: apps/web has four main builds (the policy keeps 3) and a release; apps/api an
        // old pull-request build (older than 7d) and a new one. See examples/policy.yaml.
        let registry: RegistryProcess | undefined;
        try {
          registry = await startRegistry();
          for (const [repository, tag, days] of [
            ['apps/web', 'main-1111111', 4],
            ['apps/web', 'main-2222222', 3],
            ['apps/web', 'main-3333333', 2],
            ['apps/web', 'main-4444444', 1],
            ['apps/web', 'v1.0.0', 40],
            ['apps/api', 'pr-1-aaaaaaa', 30],
            ['apps/api', 'pr-2-bbbbbbb', 1],
          ] as const) {
            await pushImage(registry.url, repository, tag, { created: daysAgo(days) });
          }
          writeFileSync(path.join(project, 'plan.ts'), PLAN_SCRIPT);
          const compiled = succeeded('tsc plan.ts', await compile(project, ['plan.ts']));
          timings.push(`tsc plan.ts (the engine API's declarations): ${compiled.ms} ms`);

          // Act
          const planned = succeeded(
            'node plan.js',
            await run(
              process.execPath,
              ['plan.js', registry.url, path.join(installed, 'examples', 'policy.yaml')],
              {
                cwd: project,
                env: userEnv(),
              },
            ),
          );
          timings.push(`engine API plan against a real registry: ${planned.ms} ms`);

          // Assess: the plan decides as the policy says; planning removed nothing.
          const plan = JSON.parse(planned.stdout) as {
            dryRun: boolean;
            repositories: Array<{ name: string; tags: Array<{ tag: string; action: string }> }>;
            summary: { delete: number };
          };
          const actions = Object.fromEntries(
            plan.repositories.flatMap((repository) =>
              repository.tags.map(({ tag, action }) => [`${repository.name}:${tag}`, action]),
            ),
          );
          expect(actions).toEqual({
            'apps/api:pr-1-aaaaaaa': 'delete',
            'apps/api:pr-2-bbbbbbb': 'keep',
            'apps/web:main-1111111': 'delete',
            'apps/web:main-2222222': 'keep',
            'apps/web:main-3333333': 'keep',
            'apps/web:main-4444444': 'keep',
            'apps/web:v1.0.0': 'keep',
          });
          expect(plan.dryRun).toBe(true);
          expect(await listTagsRaw(registry.url, 'apps/api')).toHaveLength(2);
          expect(await listTagsRaw(registry.url, 'apps/web')).toHaveLength(5);
        } finally {
          await registry?.stop();
        }
      },
      STEP_TIMEOUT_MS,
    );
  });

  describe('with aws-cdk-lib, constructs and cdk-nag from the npm registry (a CDK user)', () => {
    const outdir = path.join(project, 'cdk.out');
    let template: Template;

    beforeAll(async () => {
      const install = succeeded(
        'npm install aws-cdk-lib constructs cdk-nag',
        await run('npm', ['install', 'aws-cdk-lib', 'constructs', 'cdk-nag', ...INSTALL_FLAGS], {
          cwd: project,
        }),
      );
      timings.push(`npm install aws-cdk-lib constructs cdk-nag: ${install.ms} ms`);
      writeFileSync(path.join(project, 'app.ts'), CDK_APP);
      writeFileSync(path.join(project, 'policy.yaml'), readFileSync(EXAMPLE_POLICY));
      writeFileSync(
        path.join(project, 'cdk.json'),
        JSON.stringify({
          app: 'node app.js',
          notices: false,
          versionReporting: false,
          context: { 'cli-telemetry': false },
        }),
      );
      const compiled = succeeded('tsc app.ts', await compile(project, ['app.ts']));
      timings.push(`tsc app.ts (regsweep/cdk's declarations with aws-cdk-lib's): ${compiled.ms} ms`);

      const args = ['synth', '--quiet', '--output', outdir];
      const [command, commandArgs] = CAN_ISOLATE_NETWORK ? ['unshare', ['-n', CDK, ...args]] : [CDK, args];
      const synth = succeeded(
        'cdk synth',
        await run(command, commandArgs, {
          cwd: project,
          env: userEnv(),
        }),
      );
      timings.push(
        `npx cdk synth of the ten-line app${CAN_ISOLATE_NETWORK ? ' (no network)' : ''}: ${synth.ms} ms`,
      );
      template = Template.fromJSON(
        JSON.parse(readFileSync(path.join(outdir, 'Registry.template.json'), 'utf8')) as Record<
          string,
          unknown
        >,
      );
    }, STEP_TIMEOUT_MS);

    it('synthesizes the three functions, the queue with its dead-letter queue, and the alarms', () => {
      // Assess
      template.resourceCountIs('AWS::Lambda::Function', 3);
      template.resourceCountIs('AWS::SQS::Queue', 2);
      template.hasResourceProperties('AWS::SQS::Queue', { FifoQueue: true, RedrivePolicy: {} });
      template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
      template.resourceCountIs('AWS::Lambda::Url', 1);
      template.hasOutput('WebhookUrl', {});
      for (const name of ['Webhook', 'Worker', 'Sweep']) {
        const id = logicalIdOf(template, 'AWS::Lambda::Function', `RegistryCleaner${name}Function`);
        expect(template.toJSON().Resources[id].Properties).toMatchObject({
          Handler: 'index.handler',
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
        });
      }
    });

    it('leaves no cdk-nag AwsSolutions finding unacknowledged', () => {
      // Assess: the plugin ran (it writes the report) and reported nothing.
      const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
        pluginReports: unknown[];
      };
      expect(report.pluginReports).toEqual([]);
    });

    it("deploys the package's prebuilt handler bundles as they are", () => {
      // Assess: each function's staged asset is the shipped bundle (bundles.smoke.test.ts shows
      // that those are byte for byte what NodejsFunction builds from the sources).
      for (const name of HANDLERS) {
        const capitalized = `${name[0].toUpperCase()}${name.slice(1)}`;
        const id = logicalIdOf(template, 'AWS::Lambda::Function', `RegistryCleaner${capitalized}Function`);
        const key = (template.toJSON().Resources[id].Properties.Code as { S3Key: string }).S3Key;
        const staged = readFileSync(path.join(outdir, `asset.${key.replace(/\.zip$/, '')}`, 'index.js'));
        const shipped = readFileSync(path.join(installed, 'dist', 'handlers', name, 'index.js'));
        expect(staged.equals(shipped)).toBe(true);
      }
    });
  });
});
