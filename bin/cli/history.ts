import {
  InvalidReferenceError,
  parseReference,
  repositoryNameProblem,
  type Digest,
} from '../../lambda/domain';
import type { HistoryEntry, HistorySubject } from '../../lambda/ledger';
import { UsageError } from './config';
import { ExitCode } from './errors';
import { ledgerFile, openLedger } from './ledger';
import { formatTable } from './output';

/** How many entries `history` shows unless told otherwise. */
export const DEFAULT_HISTORY_LIMIT = 100;

/** `REPO`, `REPO:TAG` or `REPO@DIGEST` (a tag and a digest together ask for both). */
export function historySubject(value: string): HistorySubject {
  if (!value.includes('@') && !value.slice(value.lastIndexOf('/') + 1).includes(':')) {
    const problem = repositoryNameProblem(value);
    if (problem) throw new InvalidReferenceError(`'${value}': ${problem}`);
    return { repository: value };
  }
  const reference = parseReference('', value);
  return {
    repository: reference.repository,
    ...(reference.tag !== undefined && { tag: reference.tag }),
    ...(reference.digest !== undefined && { digest: reference.digest }),
  };
}

/** `regsweep history REPO[:TAG]|REPO@DIGEST [--ledger FILE] [--json] [--limit N]`. */
export async function historyCommand(
  reference: string,
  options: { ledger?: string; json?: boolean; limit?: string },
  io: { stdout: NodeJS.WritableStream; env: NodeJS.ProcessEnv },
): Promise<number> {
  const subject = historySubject(reference);
  const limit = Number(options.limit ?? DEFAULT_HISTORY_LIMIT);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit must be a positive integer, got '${options.limit}'`);
  const file = ledgerFile(options.ledger, io.env);
  if (!file)
    throw new UsageError(
      'history reads the ledger: pass --ledger FILE or set REGSWEEP_LEDGER (serve records into ./regsweep-ledger.db)',
    );
  const ledger = openLedger(file);
  try {
    const entries = await ledger.history(subject, { limit });
    if (options.json) {
      io.stdout.write(`${JSON.stringify(entries.map(historyJson), null, 2)}\n`);
    } else {
      io.stdout.write(`${formatHistory(reference, entries)}\n`);
    }
    return ExitCode.Done;
  } finally {
    await ledger.close();
  }
}

/** One entry as JSON: ISO time first, absent fields left out. */
function historyJson(entry: HistoryEntry): Record<string, string> {
  return {
    at: entry.at.toISOString(),
    kind: entry.kind,
    repository: entry.repository,
    ...(entry.tag !== undefined && { tag: entry.tag }),
    ...(entry.digest !== undefined && { digest: entry.digest }),
    ...(entry.eventId !== undefined && { eventId: entry.eventId }),
    ...(entry.runId !== undefined && { runId: entry.runId }),
    ...(entry.reason !== undefined && { reason: entry.reason }),
  };
}

/** The human rendering: newest first, one row an event. */
export function formatHistory(reference: string, entries: readonly HistoryEntry[]): string {
  if (entries.length === 0)
    return `The ledger has no history of ${reference}: no notification named it (is the registry posting to 'regsweep serve'?).`;
  const rows = entries.map((entry) => [
    entry.at.toISOString(),
    entry.kind,
    entry.tag ? `${entry.repository}:${entry.tag}` : entry.repository,
    shortDigest(entry.digest),
    entry.kind === 'archive' ? `run ${entry.runId ?? '?'}: ${entry.reason ?? ''}` : (entry.eventId ?? ''),
  ]);
  return formatTable(['WHEN', 'WHAT', 'REFERENCE', 'DIGEST', 'DETAIL'], rows);
}

function shortDigest(digest: Digest | undefined): string {
  return digest ? digest.slice(0, 19) : '-';
}
