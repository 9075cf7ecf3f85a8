import type { EndState } from '../measure/end-state';
import type { SideBySideReport } from '../measure/side-by-side';
import type { SideRun, SideSummary, SideTool } from '../measure/side-by-side-summary';
import { fixed, table } from './format';
import type { TargetCheck } from './types';

/** Issue 14's targets for the side by side, as ratios and counts measured in one run. */
export const SIDE_BY_SIDE_TARGETS = {
  speedup: 1.25,
  coldNaturalRequestsPerTag: 2.1,
  coldAgesRequestsPerTag: 3.1,
  warmRequestsPerTag: 2.1,
} as const;

const LABELS: Record<SideTool, string> = {
  'registry-cli-shaped': 'registry-cli-shaped loop',
  'registry-cli': 'registry-cli (real)',
  'sweep-natural': 'sweep cold, `order: natural`',
  'sweep-created': 'sweep cold, `order: created`',
  'sweep-warm': 'sweep warm (ledger), `order: created`',
};

const wall = (ms: number): string => `${fixed(ms / 1000, 2)} s`;
const pinnedLabel = (pinned: boolean): string => (pinned ? ' (pinned)' : '');
const speed = (value: number | undefined): string => (value === undefined ? 'n/a' : `${fixed(value, 2)}×`);

function endStateOf(summary: SideSummary, removals: number): string {
  if (summary.endStateExact) return `exact (${removals} removed, 0 kept lost)`;
  const describe = (state: EndState): string =>
    `${state.removed} removed, ${state.notRemoved} left, ${state.keptLost} kept lost, ${state.keptChanged} kept changed`;
  return `**${summary.runs.map((run) => describe(run.endState)).join('; ')}**`;
}

function kindsOf(perTag: Readonly<Record<string, number>> | undefined): string {
  if (!perTag) return 'not counted';
  return Object.entries(perTag)
    .filter(([, value]) => value > 0)
    .map(([kind, value]) => `${kind} ${fixed(value, 3)}`)
    .join(', ');
}

/** The section: one row per tool and pinning (medians), then every run. */
export function sideBySideSection(side: SideBySideReport): string[] {
  const out: string[] = [];
  out.push('## Side by side: the issue-14 seed');
  out.push('');
  out.push(
    `Its own seed: ${side.repositories} repositories × ${side.tagsPerRepository} tags = ${side.tags} tags, every tag its own ` +
      `Docker image, build times growing with the tag number (name order = age order), pushed in ${fixed(side.seedSeconds, 1)} s. ` +
      `The policy keeps ${side.keep} per repository: ordered by \`created\` (reads every config blob) it plans ` +
      `${side.plans.created.delete + side.plans.created.untag} removals, by \`natural\` (reads no age) ` +
      `${side.plans.natural.delete + side.plans.natural.untag}, the same tags. Every run is on a fresh copy of the seed, ` +
      `${side.repeats} of each (medians), then the registry is compared with the plan. ` +
      `Pinned: ${side.pinning.note}. registry-cli (real): ${side.registryCli.ran ? `run with ${side.registryCli.python}` : 'not run (`--registry-cli PATH/registry.py`)'}.`,
  );
  out.push('');
  out.push(
    table(
      [
        'run (median)',
        'wall',
        'speed vs registry-cli-shaped',
        'vs registry-cli (real)',
        'client CPU',
        'registry CPU',
        'requests per tag',
        'by kind, per tag',
        'end state',
      ],
      side.summaries.map((summary) => [
        `${LABELS[summary.tool]}${pinnedLabel(summary.pinned)}`,
        wall(summary.wallMs),
        summary.tool.startsWith('sweep') ? speed(summary.speedVsShaped) : '—',
        summary.tool.startsWith('sweep') ? speed(summary.speedVsRegistryCli) : '—',
        `${fixed(summary.clientCpuSeconds, 2)} s`,
        `${fixed(summary.registryCpuSeconds, 2)} s`,
        summary.requestsPerTag === undefined ? 'n/a' : fixed(summary.requestsPerTag, 3),
        kindsOf(summary.perTag),
        endStateOf(summary, side.removals),
      ]),
    ),
  );
  out.push('');
  out.push(
    'Speed is the baseline’s wall time over the sweep’s (medians of this run, pinned against pinned). ' +
      'The registry-cli-shaped loop (a HEAD and a DELETE per removed tag, 4 workers, a new connection per request, ' +
      'no re-read of the repository) runs in its own Node process and is timed around its requests only, without ' +
      'Node’s start-up; regsweep and registry-cli are timed from spawn to exit, start-up included. Requests per tag ' +
      'count every request over every tag in the registry; the real registry-cli’s are not counted.',
  );
  out.push('');
  const runs = side.summaries.flatMap((summary) => summary.runs);
  out.push(
    table(
      ['every run', 'wall', 'client CPU', 'registry CPU', 'requests / connections', "registry threads' CPUs"],
      runs.map((run: SideRun, index) => [
        `${index + 1}. ${LABELS[run.tool]}${pinnedLabel(run.pinned)}`,
        wall(run.wallMs),
        `${fixed(run.clientCpuSeconds, 2)} s`,
        `${fixed(run.registryCpuSeconds, 2)} s`,
        run.requests === undefined ? 'n/a' : `${run.requests} / ${run.connections ?? 'n/a'}`,
        run.registryAffinity,
      ]),
    ),
  );
  out.push('');
  return out;
}

/** The targets rows: each sweep against each baseline and pinning, and the requests per tag. */
export function sideBySideTargets(side: SideBySideReport): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const sweeps = side.summaries.filter((summary) => summary.tool.startsWith('sweep'));
  const find = (tool: SideTool, pinned: boolean): SideSummary | undefined =>
    side.summaries.find((summary) => summary.tool === tool && summary.pinned === pinned);
  for (const [baseline, key] of [
    ['registry-cli-shaped', 'speedVsShaped'],
    ['registry-cli', 'speedVsRegistryCli'],
  ] as const) {
    for (const sweep of sweeps) {
      const ratio = sweep[key];
      const base = find(baseline, sweep.pinned);
      if (ratio === undefined || !base) continue;
      checks.push({
        name: `side by side: ${LABELS[sweep.tool]} vs ${LABELS[baseline]}${pinnedLabel(sweep.pinned)}`,
        target: `>= ${SIDE_BY_SIDE_TARGETS.speedup}x its speed, the same end state`,
        measured: `${fixed(ratio, 2)}x (${wall(base.wallMs)} ÷ ${wall(sweep.wallMs)}), end state ${sweep.endStateExact ? 'exact' : '**wrong**'}`,
        met: ratio >= SIDE_BY_SIDE_TARGETS.speedup && sweep.endStateExact,
      });
    }
  }
  for (const [tool, limit, what] of [
    ['sweep-natural', SIDE_BY_SIDE_TARGETS.coldNaturalRequestsPerTag, 'cold, no rule needs ages (`natural`)'],
    ['sweep-created', SIDE_BY_SIDE_TARGETS.coldAgesRequestsPerTag, 'cold, a rule needs ages (`created`)'],
    ['sweep-warm', SIDE_BY_SIDE_TARGETS.warmRequestsPerTag, 'warm (ages and facts from the ledger)'],
  ] as const) {
    const perTag = find(tool, false)?.requestsPerTag;
    if (perTag === undefined) continue;
    checks.push({
      name: `side by side: sweep requests per tag, ${what}`,
      target: `<= ${limit}`,
      measured: fixed(perTag, 3),
      met: perTag <= limit,
    });
  }
  return checks;
}
