import type { Plan, PlannedTag, RepositoryPlan } from '../../lambda/domain';
import { formatAge } from '../../lambda/policy';

/** How long ago an image was built (`3d`, `5h`), or `unknown`. */
export function imageAge(created: string | null, now: Date): string {
  const builtMs = created ? Date.parse(created) : Number.NaN;
  return Number.isFinite(builtMs) ? formatAge(now.getTime() - builtMs) : 'unknown';
}

/** Lays rows out in columns, the last column unpadded. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function actionLabel(tag: PlannedTag): string {
  if (tag.shared) return 'keep (shared)';
  return tag.dangling ? `${tag.action} (dangling)` : tag.action;
}

/** The human rendering of a plan: a table per repository (results after a sweep) and a summary line. */
export function formatPlan(plan: Plan, now: Date): string {
  const swept = !plan.dryRun;
  const header = ['TAG', 'ACTION', ...(swept ? ['RESULT'] : []), 'RULE', 'AGE', 'DIGEST', 'REASON'];
  const sections: string[] = [];
  for (const repository of plan.repositories) {
    const rows = repository.tags.map((tag) => [
      tag.tag,
      actionLabel(tag),
      ...(swept ? [tag.action === 'keep' ? '' : (tag.result ?? 'not run')] : []),
      tag.rule ?? '-',
      imageAge(tag.created, now),
      tag.digest.slice(0, 19),
      tag.error ? `${tag.reason}; error: ${tag.error}` : tag.reason,
    ]);
    const table = rows.length > 0 ? formatTable(header, rows) : repository.error ? '' : '  (no tags)';
    const error = repository.error ? `  FAILED: ${repository.error}` : '';
    const untagged = formatUntagged(repository, swept);
    const bytes =
      repository.reclaimableBytes !== undefined
        ? `  reclaimable: ${formatBytes(repository.reclaimableBytes)} (config and layers only these removals reference)`
        : '';
    sections.push([repository.name, error, table, untagged, bytes].filter((part) => part !== '').join('\n'));
  }
  if (sections.length === 0) sections.push('No repository matched the policy.');
  return `${sections.join('\n\n')}\n\n${formatSummary(plan)}`;
}

/** The untagged manifests of a repository as a table, or '' when it lists none. */
function formatUntagged(repository: RepositoryPlan, swept: boolean): string {
  const manifests = repository.untagged ?? [];
  if (manifests.length === 0) return '';
  const header = ['UNTAGGED DIGEST', 'ACTION', ...(swept ? ['RESULT'] : []), 'PUSHED', 'REASON'];
  const rows = manifests.map((manifest) => [
    manifest.digest.slice(0, 19),
    manifest.action,
    ...(swept ? [manifest.action === 'keep' ? '' : (manifest.result ?? 'not run')] : []),
    manifest.pushedAt ?? 'unknown',
    manifest.error ? `${manifest.reason}; error: ${manifest.error}` : manifest.reason,
  ]);
  return formatTable(header, rows);
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** Bytes in readable units: `512 B`, `1.5 MiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/**
 * What the summary says of the bytes: blobs other repositories link stay until none does, and
 * only the registry's garbage collection frees them.
 */
function reclaimableNote(plan: Plan): string {
  const bytes = plan.summary.reclaimableBytes;
  if (bytes === undefined) return '';
  return (
    ` Reclaimable: ${formatBytes(bytes)} of config and layers only this run's removals reference; ` +
    `blobs shared with other repositories stay until none links them, and 'registry garbage-collect' ` +
    `(without --delete-untagged) frees them.`
  );
}

/** The one-line summary; after a sweep it also says how to get the disk space back. */
export function formatSummary(plan: Plan): string {
  const { summary } = plan;
  const counts =
    `${plural(summary.repositories, 'repository', 'repositories')}, ${plural(summary.tags, 'tag', 'tags')}: ` +
    `${summary.keep} keep, ${summary.delete} delete, ${summary.untag} untag` +
    (summary.untagged !== undefined
      ? `; ${plural(summary.untagged, 'untagged manifest', 'untagged manifests')} to delete`
      : '') +
    (summary.failedRepositories > 0
      ? `; ${plural(summary.failedRepositories, 'repository', 'repositories')} failed`
      : '');
  if (plan.dryRun)
    return `Plan: ${counts} (dry run: nothing removed; run 'regsweep sweep' to apply).${reclaimableNote(plan)}`;
  const skipped = plan.repositories
    .flatMap((r) => r.tags)
    .filter((t) => t.result === 'skipped-changed').length;
  return (
    `Sweep: ${counts}; ${summary.failed} failed${skipped > 0 ? `, ${skipped} skipped (changed since planning)` : ''}. ` +
    `Disk space returns only after the registry's garbage collection: 'registry garbage-collect <config.yml>' ` +
    `(Debian: docker-registry), with the registry stopped or read-only.`
  );
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** How many failed removals `formatFailures` names; the rest are counted. */
export const MAX_LISTED_FAILURES = 100;

/**
 * The repositories that could not be read or cleaned, one `repository: error` line each, then the
 * removals that failed, one `repository:tag: error` line each (at most {@link MAX_LISTED_FAILURES}
 * of each), for stderr: with `--json` stdout carries only the plan, and even in a long table a
 * user must see at once what is left to do. Undefined when nothing failed.
 */
export function formatFailures(plan: Plan): string | undefined {
  const repositories = plan.repositories
    .filter((repository) => repository.error !== undefined)
    .map((repository) => `  ${repository.name}: ${repository.error}`);
  const failed = plan.repositories.flatMap((repository) =>
    repository.tags
      .filter((tag) => tag.result === 'failed')
      .map((tag) => `  ${repository.name}:${tag.tag}: ${tag.error ?? 'failed'}`),
  );
  const parts: string[] = [];
  if (repositories.length > 0)
    parts.push(
      `${plural(repositories.length, 'repository', 'repositories')} could not be read or checked; run again to retry:\n${capped(repositories)}`,
    );
  if (failed.length > 0)
    parts.push(
      `${plural(failed.length, 'removal', 'removals')} failed; run the sweep again to retry them:\n${capped(failed)}`,
    );
  return parts.length > 0 ? parts.join('\nregsweep: ') : undefined;
}

function capped(lines: readonly string[]): string {
  const listed = lines.slice(0, MAX_LISTED_FAILURES);
  if (lines.length > listed.length) listed.push(`  ... and ${lines.length - listed.length} more`);
  return listed.join('\n');
}
