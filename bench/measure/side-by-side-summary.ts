import { median } from '../stats';
import type { EndState } from './end-state';

/** What the section compares; the first two are the baselines. */
export type SideTool =
  'registry-cli-shaped' | 'registry-cli' | 'sweep-natural' | 'sweep-created' | 'sweep-warm';
export const REGSWEEP_TOOLS = ['sweep-natural', 'sweep-created', 'sweep-warm'] as const;
export type RegsweepTool = (typeof REGSWEEP_TOOLS)[number];

/** One trial: one tool on a fresh copy of the seed. */
export interface SideRun {
  readonly tool: SideTool;
  readonly pinned: boolean;
  readonly wallMs: number;
  readonly clientCpuSeconds: number;
  readonly registryCpuSeconds: number;
  /** Requests by kind (RegistryClient.stats kinds); absent for the real registry-cli (not counted). */
  readonly byKind?: Readonly<Record<string, number>>;
  readonly requests?: number;
  readonly connections?: number;
  /** The CPUs the registry's threads may run on during the run (`0` when pinned). */
  readonly registryAffinity: string;
  readonly endState: EndState;
}

/** Medians of one tool's trials, and its speed against the baselines of the same pinning. */
export interface SideSummary {
  readonly tool: SideTool;
  readonly pinned: boolean;
  readonly runs: readonly SideRun[];
  readonly wallMs: number;
  readonly clientCpuSeconds: number;
  readonly registryCpuSeconds: number;
  /** Requests per tag in the registry (median), and by kind (first run). */
  readonly requestsPerTag?: number;
  readonly perTag?: Readonly<Record<string, number>>;
  /** Every run removed exactly the planned tags and lost none it keeps. */
  readonly endStateExact: boolean;
  /** Baseline wall ÷ this wall (median over median): above 1, this is faster. */
  readonly speedVsShaped?: number;
  readonly speedVsRegistryCli?: number;
}

/** Medians per tool and pinning, each regsweep tool against the baselines of its own pinning. */
export function summarizeSideRuns(runs: readonly SideRun[], tags: number, removals: number): SideSummary[] {
  const groups = new Map<string, SideRun[]>();
  for (const run of runs) {
    const key = `${run.tool}|${run.pinned}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const base = [...groups.values()].map((group): SideSummary => {
    const first = group[0] as SideRun;
    const counted = group.filter((run) => run.requests !== undefined);
    return {
      tool: first.tool,
      pinned: first.pinned,
      runs: group,
      wallMs: median(group.map((run) => run.wallMs)),
      clientCpuSeconds: median(group.map((run) => run.clientCpuSeconds)),
      registryCpuSeconds: median(group.map((run) => run.registryCpuSeconds)),
      ...(counted.length > 0 && {
        requestsPerTag: median(counted.map((run) => (run.requests as number) / tags)),
        perTag: Object.fromEntries(
          Object.entries(first.byKind ?? {}).map(([kind, count]) => [kind, count / tags]),
        ),
      }),
      endStateExact: group.every(
        ({ endState }) =>
          endState.removed === removals &&
          endState.notRemoved + endState.keptLost + endState.keptChanged + endState.brokenIndexes === 0,
      ),
    };
  });
  const wallOf = (tool: SideTool, pinned: boolean): number | undefined =>
    base.find((summary) => summary.tool === tool && summary.pinned === pinned)?.wallMs;
  return base.map((summary) => {
    if (!(REGSWEEP_TOOLS as readonly SideTool[]).includes(summary.tool)) return summary;
    const shaped = wallOf('registry-cli-shaped', summary.pinned);
    const real = wallOf('registry-cli', summary.pinned);
    return {
      ...summary,
      ...(shaped !== undefined && { speedVsShaped: shaped / summary.wallMs }),
      ...(real !== undefined && { speedVsRegistryCli: real / summary.wallMs }),
    };
  });
}
