import { resolve as resolvePath } from 'node:path';
import { formatReference, parseReference, type Plan } from '../../lambda/domain';
import { planRun, removeDigest, removeTag, sweepRun, SweepInterruptedError } from '../../lambda/engine';
import { ledgerRequirements, type Policy } from '../../lambda/policy';
import { RegistryClient } from '../../lambda/registry';
import { credentialsFromEnv, loadPolicyFile, parseConcurrency, registryUrl, UsageError } from './config';
import { ExitCode } from './errors';
import { formatFailures, formatPlan } from './output';
import { progressBar } from './progress-bar';
import { ledgerFile, openLedger, SERVE_DEFAULT_LEDGER } from './ledger';
import { createWebhookServer } from './serve';

/** Where a command writes; injectable for tests. */
export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WriteStream;
  readonly env: NodeJS.ProcessEnv;
}

export interface RunCommandOptions {
  registry?: string;
  policy?: string;
  repository?: string[];
  json?: boolean;
  concurrency?: string;
  /** The ledger file (`--ledger`; default `$REGSWEEP_LEDGER`, else none). */
  ledger?: string;
}

function clientFor(url: string, io: CommandIo, concurrency: number | undefined): RegistryClient {
  const credentials = credentialsFromEnv(io.env);
  return new RegistryClient({
    registry: url,
    ...(credentials && { credentials }),
    ...(concurrency && { concurrency }),
  });
}

/** `regsweep plan` and `regsweep sweep`. */
export async function planOrSweep(
  mode: 'plan' | 'sweep',
  options: RunCommandOptions,
  io: CommandIo,
): Promise<number> {
  const file = ledgerFile(options.ledger, io.env);
  const policy: Policy = loadPolicyFile(options.policy, file !== undefined);
  const concurrency = parseConcurrency(options.concurrency);
  const client = clientFor(registryUrl(options.registry, io.env, policy), io, concurrency);
  const ledger = file === undefined ? undefined : openLedger(file);
  const bar = progressBar(io.stderr);
  try {
    const runOptions = {
      client,
      policy,
      ...(ledger && {
        ledger,
        warn: (message: string) => io.stderr.write(`regsweep: warning: ${message}\n`),
      }),
      ...(options.repository && { repositories: options.repository }),
      ...(concurrency && { concurrency }),
      ...(bar.listener && { progress: bar.listener }),
    };
    let plan: Plan;
    let interrupted: SweepInterruptedError | undefined;
    try {
      plan = mode === 'plan' ? (await planRun(runOptions)).plan : await sweepRun(runOptions);
    } catch (error) {
      // Stopped after removing something: show what was done, then why it stopped (exit 1).
      if (!(error instanceof SweepInterruptedError)) throw error;
      interrupted = error;
      plan = error.plan;
    }
    bar.stop();
    io.stdout.write(
      options.json ? `${JSON.stringify(plan, null, 2)}\n` : `${formatPlan(plan, new Date())}\n`,
    );
    if (interrupted) io.stderr.write(`regsweep: ${interrupted.message}\n`);
    const failures = formatFailures(plan);
    if (failures) io.stderr.write(`regsweep: ${failures}\n`);
    const incomplete = plan.summary.failed > 0 || plan.summary.failedRepositories > 0;
    return incomplete ? ExitCode.RemovalsFailed : ExitCode.Done;
  } finally {
    bar.stop();
    await client.close();
    await ledger?.close();
  }
}

/**
 * `regsweep delete REPO:TAG[@DIGEST] [--digest [--force]]`. A pinned `@DIGEST` without `--digest`
 * removes the tag only while it still points there.
 */
export async function deleteCommand(
  reference: string,
  options: { registry?: string; digest?: boolean; force?: boolean },
  io: CommandIo,
): Promise<number> {
  const url = registryUrl(options.registry, io.env);
  const parsed = parseReference(url, reference);
  if (options.force && !(options.digest || !parsed.tag))
    throw new UsageError('--force applies to --digest only (a tag removal never takes another tag down)');
  const client = clientFor(url, io, undefined);
  try {
    const target = parsed.digest ?? parsed.tag ?? '';
    if (options.digest || !parsed.tag) {
      const removal = await removeDigest(client, parsed.repository, target, {
        force: options.force === true,
      });
      const tags = removal.tags.length > 0 ? removal.tags.join(', ') : '(none)';
      io.stdout.write(`deleted ${parsed.repository}@${removal.digest} and every tag on it: ${tags}\n`);
      if (removal.heldBy.length > 0)
        io.stderr.write(
          `regsweep: --force: this broke what reached it through indexes: ${removal.heldBy.join(', ')}\n`,
        );
    } else {
      const removal = await removeTag(client, parsed.repository, parsed.tag, {
        ...(parsed.digest && { digest: parsed.digest }),
      });
      const what = formatReference(parsed);
      io.stdout.write(
        removal.outcome === 'deleted'
          ? `deleted ${what} (${removal.digest}; no other tag held it)\n`
          : removal.outcome === 'cleared'
            ? `cleared ${what} (${removal.method}): it was listed, but ${removal.digest ? `its manifest ${removal.digest} was gone already` : 'linked to no manifest'}\n`
            : `untagged ${what} (${removal.method}); ${removal.digest} stays for: ${removal.heldBy.join(', ')}\n`,
      );
    }
    return ExitCode.Done;
  } finally {
    await client.close();
  }
}

/** `regsweep validate --policy FILE`. */
export function validateCommand(options: { policy?: string }, io: CommandIo): number {
  // Whether a ledger will be there is up to the command that runs the policy: validate says.
  const policy = loadPolicyFile(options.policy, true);
  const needs = ledgerRequirements(policy);
  const { rules, protect } = policy.document;
  io.stdout.write(
    `${options.policy}: valid (${rules.length} rule${rules.length === 1 ? '' : 's'}: ${rules.map((r) => r.name).join(', ') || 'none'}; ` +
      `${protect.length} protect pattern${protect.length === 1 ? '' : 's'})\n`,
  );
  if (needs.length > 0)
    io.stdout.write(
      `needs a ledger (plan and sweep: --ledger FILE; serve records into ./regsweep-ledger.db by default) for: ${needs.join(', ')}\n`,
    );
  return ExitCode.Done;
}

/** `regsweep serve`'s options, as commander gives them. */
export interface ServeCommandOptions {
  registry?: string;
  policy?: string;
  port?: string;
  host?: string;
  dryRun?: boolean;
  /**
   * The ledger file (`--ledger`; default `$REGSWEEP_LEDGER`, else `./regsweep-ledger.db`), or
   * false for `--no-ledger` (commander's negation): record nothing.
   */
  ledger?: string | false;
}

/**
 * `regsweep serve`: the local webhook receiver; records every notification in the ledger (unless
 * `--no-ledger`) and runs until SIGTERM/SIGINT, then drains and closes the ledger.
 */
export async function serveCommand(
  options: ServeCommandOptions,
  io: CommandIo,
  stopSignal: Promise<unknown> = signalled(),
): Promise<number> {
  const file =
    options.ledger === false ? undefined : ledgerFile(options.ledger, io.env, SERVE_DEFAULT_LEDGER);
  const policy = loadPolicyFile(options.policy, file !== undefined);
  const webhookToken = io.env.REGSWEEP_WEBHOOK_TOKEN;
  if (!webhookToken) {
    throw new UsageError(
      'set REGSWEEP_WEBHOOK_TOKEN: the registry must send it as `Authorization: Bearer <token>`',
    );
  }
  const port = Number(options.port ?? '8080');
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UsageError(`--port must be 0-65535, got '${options.port}'`);
  const host = options.host ?? '127.0.0.1';
  const url = registryUrl(options.registry, io.env, policy);
  const ledger = file === undefined ? undefined : openLedger(file);
  const client = clientFor(url, io, undefined);
  const log = (line: string): void => {
    io.stderr.write(`${new Date().toISOString()} ${line}\n`);
  };
  try {
    const receiver = createWebhookServer({
      client,
      policy,
      webhookToken,
      dryRun: options.dryRun === true,
      log,
      ...(ledger && { ledger }),
    });
    await new Promise<void>((resolve, reject) => {
      receiver.server.once('error', reject);
      receiver.server.listen(port, host, () => resolve());
    });
    log(
      `regsweep serve: POST ${receiver.url()}/webhook cleans ${url}${options.dryRun ? ' (dry run)' : ''}; GET /healthz`,
    );
    log(
      file === undefined
        ? 'ledger: off (--no-ledger): notifications are not recorded'
        : `ledger: recording pushes, pulls and deletes into ${resolvePath(file)}`,
    );
    await stopSignal;
    log('shutting down: waiting for running cleanups');
    await receiver.close();
    return ExitCode.Done;
  } finally {
    await client.close();
    await ledger?.close();
  }
}

function signalled(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}
