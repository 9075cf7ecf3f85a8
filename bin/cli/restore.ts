import { parseReference } from '../../lambda/domain';
import { restoreRemovals, type RestoredManifest } from '../../lambda/engine';
import type { LedgerRemoval } from '../../lambda/ledger';
import { RegistryClient } from '../../lambda/registry';
import { credentialsFromEnv, registryUrl, UsageError } from './config';
import { ExitCode } from './errors';
import { ledgerFile, openLedger } from './ledger';
import { formatTable } from './output';

export interface RestoreCommandOptions {
  registry?: string;
  ledger?: string;
  run?: string;
  dryRun?: boolean;
  json?: boolean;
}

/** `regsweep restore (--run RUN_ID | REPO:TAG...) --registry URL [--ledger FILE] [--dry-run] [--json]`. */
export async function restoreCommand(
  references: readonly string[],
  options: RestoreCommandOptions,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; env: NodeJS.ProcessEnv },
): Promise<number> {
  if ((options.run === undefined) === (references.length === 0))
    throw new UsageError('restore takes either --run RUN_ID or one or more REPO:TAG, not both');
  const url = registryUrl(options.registry, io.env);
  const targets = references.map((reference) => {
    const parsed = parseReference(url, reference);
    if (!parsed.tag || parsed.digest) throw new UsageError(`restore takes REPO:TAG, got '${reference}'`);
    return { repository: parsed.repository, tag: parsed.tag };
  });
  const file = ledgerFile(options.ledger, io.env);
  if (!file)
    throw new UsageError(
      'restore reads the archives in the ledger: pass --ledger FILE or set REGSWEEP_LEDGER',
    );
  const ledger = openLedger(file);
  const credentials = credentialsFromEnv(io.env);
  const client = new RegistryClient({ registry: url, ...(credentials && { credentials }) });
  try {
    const removals: LedgerRemoval[] = [];
    const unknown: string[] = [];
    if (options.run !== undefined) {
      removals.push(...(await ledger.listRemovals(options.run)));
      if (removals.length === 0) unknown.push(`run ${options.run}`);
    }
    for (const { repository, tag } of targets) {
      const removal = await ledger.latestRemovalOfTag(repository, tag);
      if (removal) removals.push({ ...removal, tags: removal.tags.filter((name) => name === tag) });
      else unknown.push(`${repository}:${tag}`);
    }
    const restored = await restoreRemovals(client, removals, { dryRun: options.dryRun === true });
    if (options.json) {
      io.stdout.write(
        `${JSON.stringify({ dryRun: options.dryRun === true, restored, notArchived: unknown }, null, 2)}\n`,
      );
    } else {
      io.stdout.write(`${formatRestore(restored, options.dryRun === true)}\n`);
    }
    for (const what of unknown)
      io.stderr.write(`regsweep: the ledger has no unexpired archive of ${what}: nothing to restore\n`);
    const incomplete =
      unknown.length > 0 ||
      restored.some(
        (entry) => entry.result === 'cannot' || entry.tags.some((tag) => tag.result === 'cannot'),
      );
    return incomplete ? ExitCode.RemovalsFailed : ExitCode.Done;
  } finally {
    await client.close();
    await ledger.close();
  }
}

/** One row per tag (or per untagged manifest), children first, then a summary line. */
export function formatRestore(restored: readonly RestoredManifest[], dryRun: boolean): string {
  const rows = restored.flatMap((entry) => {
    const digest = entry.digest.slice(0, 19);
    if (entry.tags.length === 0)
      return [[`${entry.repository}@${digest}`, entry.result, entry.runId, entry.reason ?? '']];
    return entry.tags.map((tag) => [
      `${entry.repository}:${tag.tag}`,
      tag.result,
      entry.runId,
      tag.reason ?? entry.reason ?? '',
    ]);
  });
  if (rows.length === 0) return 'Nothing to restore.';
  const cannot = restored.filter((entry) => entry.result === 'cannot').length;
  const summary = dryRun
    ? `Dry run: ${restored.length - cannot} of ${restored.length} manifests can come back; nothing was written.`
    : `Restored ${restored.length - cannot} of ${restored.length} manifests.`;
  const gone =
    cannot > 0
      ? ` ${cannot} cannot come back: what they need is gone (garbage collection removes blobs no manifest links).`
      : '';
  return `${formatTable(['REFERENCE', 'RESULT', 'RUN', 'REASON'], rows)}\n\n${summary}${gone}`;
}
