import { Command, CommanderError, Option } from 'commander';
import { deleteCommand, planOrSweep, serveCommand, validateCommand, type CommandIo } from './cli/commands';
import { ExitCode, reportError } from './cli/errors';
import { DEFAULT_HISTORY_LIMIT, historyCommand } from './cli/history';
import { restoreCommand } from './cli/restore';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };

const io: CommandIo = { stdout: process.stdout, stderr: process.stderr, env: process.env };

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Runs a command action and turns its outcome (or error) into the process exit code. */
function run(action: () => Promise<number> | number): Promise<void> {
  return Promise.resolve()
    .then(action)
    .then(
      (code) => {
        process.exitCode = code;
      },
      (error: unknown) => {
        process.exitCode = reportError(error);
      },
    );
}

const program = new Command()
  .name('regsweep')
  .description('Retention for Docker/OCI registries that never deletes what the policy keeps.')
  .version(version)
  .showHelpAfterError()
  .exitOverride();

for (const mode of ['plan', 'sweep'] as const) {
  program
    .command(mode)
    .description(
      mode === 'plan'
        ? 'show what the policy keeps and removes, and why (removes nothing)'
        : 'plan, then remove what the policy does not keep (re-verifying each tag first)',
    )
    .option('--registry <url>', 'registry base URL (default: $REGSWEEP_REGISTRY, then the policy)')
    .option('--policy <file>', 'retention policy (YAML or JSON)')
    .option('--repository <name>', 'only this repository (repeatable)', collect)
    .option('--json', 'print only the plan JSON on stdout')
    .addOption(new Option('--concurrency <n>', 'requests in flight').default(undefined, '8'))
    .option('--ledger <file>', 'the ledger file: push and pull times, removals (default: $REGSWEEP_LEDGER)')
    .action((options) => run(() => planOrSweep(mode, options, io)));
}

program
  .command('delete')
  .description(
    'remove one tag, never other tags on its digest (--digest: remove the digest and every tag on it)',
  )
  .argument(
    '<reference>',
    'REPO:TAG, REPO:TAG@DIGEST (removes the tag only while it still points at DIGEST), or REPO@DIGEST',
  )
  .option('--registry <url>', 'registry base URL (default: $REGSWEEP_REGISTRY)')
  .option('--digest', 'delete the whole digest, with every tag that points at it')
  .option(
    '--force',
    'with --digest: delete it even when other tags reach it through their indexes (this breaks them; refused otherwise)',
  )
  .action((reference: string, options) => run(() => deleteCommand(reference, options, io)));

program
  .command('serve')
  .description("receive the registry's notifications on POST /webhook and clean each pushed repository")
  .option('--registry <url>', 'registry base URL (default: $REGSWEEP_REGISTRY, then the policy)')
  .option('--policy <file>', 'retention policy (YAML or JSON)')
  .option('--port <n>', 'port to listen on', '8080')
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--dry-run', 'log what would be removed, remove nothing')
  .option(
    '--ledger <file>',
    'record pushes, pulls and deletes into this ledger file (default: $REGSWEEP_LEDGER, else ./regsweep-ledger.db)',
  )
  .option('--no-ledger', 'record nothing (a policy that needs the ledger is then refused)')
  .action((options) => run(() => serveCommand(options, io)));

program
  .command('history')
  .description('what the ledger saw of a repository, tag or digest: pushes, pulls, removals, newest first')
  .argument('<reference>', 'REPO, REPO:TAG or REPO@DIGEST')
  .option('--ledger <file>', 'the ledger file (default: $REGSWEEP_LEDGER)')
  .option('--json', 'print the entries as JSON')
  .option('--limit <n>', 'at most this many entries', String(DEFAULT_HISTORY_LIMIT))
  .action((reference: string, options) => run(() => historyCommand(reference, options, io)));

program
  .command('restore')
  .description('put archived manifests and tags back: those a run removed (--run), or the named tags')
  .argument('[references...]', 'REPO:TAG to restore (its newest archived removal)')
  .option('--run <id>', 'restore everything this run removed')
  .option('--registry <url>', 'registry base URL (default: $REGSWEEP_REGISTRY)')
  .option('--ledger <file>', 'the ledger file (default: $REGSWEEP_LEDGER)')
  .option('--dry-run', 'check and show what would come back, write nothing')
  .option('--json', 'print the outcome as JSON')
  .action((references: string[], options) => run(() => restoreCommand(references, options, io)));

program
  .command('validate')
  .description('check a policy file and exit')
  .option('--policy <file>', 'retention policy (YAML or JSON)')
  .action((options) => run(() => validateCommand(options, io)));

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // --help and --version exit 0; every other commander error is a usage error.
    process.exitCode = error.exitCode === 0 ? ExitCode.Done : ExitCode.Refused;
    return;
  }
  process.exitCode = reportError(error);
});
