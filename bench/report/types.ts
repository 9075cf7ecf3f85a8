import type { PlanSummary } from '../../lambda/domain';
import type { RequestKind } from '../../lambda/registry';
import type { BaselineRun } from '../measure/baseline';
import type { RawRate } from '../measure/ceiling';
import type { EndState } from '../measure/end-state';
import type { HeadPass } from '../measure/head-keep-alive';
import type { LambdaColdStart } from '../measure/lambda';
import type { FactsCacheRun, RecordingRun } from '../measure/ledger';
import type { PlannerRun } from '../measure/planner';
import type { RegistryCliShapedRun } from '../measure/registry-cli-shaped';
import type { SideBySideReport } from '../measure/side-by-side';
import type { MachineInfo } from '../system';

/** One measured CLI run (the stdout is not kept). */
export interface CliMeasurement {
  readonly exitCode: number;
  readonly wallMs: number;
  readonly tagsPerSecond: number;
  readonly maxRssMiB: number;
  readonly cpuSeconds: number;
  /** CPU the registry process spent serving the run. */
  readonly registryCpuSeconds: number;
  readonly connections: number;
  /** Every request attempt, and by `RegistryClient.stats` kind. */
  readonly requests: number;
  readonly byKind: Readonly<Record<string, number>>;
}

/** Medians over the runs of one command. */
export interface CliSummary {
  readonly runs: readonly CliMeasurement[];
  readonly wallMs: number;
  readonly tagsPerSecond: number;
  readonly maxRssMiB: number;
  readonly cpuSeconds: number;
  readonly registryCpuSeconds: number;
}

/** A CLI run's requests by kind, also per tag in the registry. */
export interface RequestBreakdown {
  readonly byKind: Record<RequestKind, number>;
  /** Requests the probe could not name (none expected). */
  readonly other: number;
  readonly total: number;
  readonly connections: number;
  /** Requests of each kind per tag in the registry. */
  readonly perTag: Record<RequestKind, number>;
  readonly totalPerTag: number;
}

/** One plan run against the registry's raw rates measured just before it. */
export interface CeilingRun {
  readonly head: RawRate;
  readonly getManifest: RawRate;
  readonly getBlob: RawRate;
  readonly ceilingTagsPerSecond: number;
  readonly weightedTagsPerSecond: number;
  readonly planTagsPerSecond: number;
}

/** A target from the issue, and where the bench stands. */
export interface TargetCheck {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

/** Everything one bench run measured: bench/results/latest.json. */
export interface BenchReport {
  readonly version: 1;
  readonly generatedAt: string;
  readonly quick: boolean;
  readonly durationSeconds: number;
  readonly machine: MachineInfo & { readonly loadAverageAtEnd: number; readonly registry: string };
  /** The commit measured, with `+dirty` when the work tree had changes. */
  readonly commit: string;
  readonly storage: string;
  readonly concurrency: number;
  readonly seed: {
    readonly repositories: number;
    readonly tags: number;
    readonly seconds: number;
    readonly tagsPerSecond: number;
    readonly requests: number;
    /** Config blobs pushed: the most config reads a plan can need. */
    readonly configBlobs: number;
    readonly plan: PlanSummary;
  };
  readonly plan: CliSummary;
  readonly sweep: CliSummary & {
    readonly results: Record<string, number>;
    readonly endStates: readonly EndState[];
  };
  /** Requests of the first plan and the first sweep CLI run (the same every run). */
  readonly requests: {
    readonly tags: number;
    readonly plan: RequestBreakdown;
    readonly sweep: RequestBreakdown;
  };
  readonly baseline: BaselineRun & {
    readonly tagsPerSecond: number;
    readonly registryCpuSeconds: number;
    readonly endState: EndState;
    /** Baseline wall time / regsweep sweep wall time (median). */
    readonly sweepSpeedup: number;
  };
  /** The registry-cli-shaped loop (HEAD + DELETE per removed tag, 4 workers, no keep-alive). */
  readonly registryCli: RegistryCliShapedRun & {
    readonly tagsPerSecond: number;
    readonly registryCpuSeconds: number;
    readonly endState: EndState;
    /** Its wall time / regsweep sweep wall time (median): above 1, regsweep is faster. */
    readonly sweepSpeedup: number;
  };
  readonly ceiling: {
    /** Raw rates measured right before each plan run, and that run's place against them. */
    readonly runs: readonly CeilingRun[];
    readonly headPerSecond: number;
    readonly getManifestPerSecond: number;
    readonly getBlobPerSecond: number;
    /** Raw HEAD/s divided by the plan's requests per tag (medians). */
    readonly tagsPerSecond: number;
    /** The same, with each request kind at its own raw rate. */
    readonly weightedTagsPerSecond: number;
    /** Plan tags/s over the ceiling of the same moment, median over the runs. */
    readonly planFraction: number;
    readonly planFractionWeighted: number;
  };
  /** HEADs as regsweep sends them, and with connection reuse (the proposed transport change). */
  readonly headKeepAlive: readonly HeadPass[];
  /** Issue 14's side by side: its own seed (6 × 100, keep 5), registry-cli and regsweep, pinned too. */
  readonly sideBySide: SideBySideReport;
  /** What the registry's own CPU allows, from this run's measurements. */
  readonly bound: {
    readonly headRegistryCpuMs: number;
    /** Registry CPU per manifest DELETE (estimated: sweep minus plan minus re-verification). */
    readonly deleteRegistryCpuMs: number;
    /** Registry CPU of the sweep's re-verifying HEADs, as regsweep sends them. */
    readonly verifyRegistryCpuSeconds: number;
    /** The plan's registry and client CPU spread over every core: the fastest this machine plans. */
    readonly planFloorSeconds: number;
    /** The sweep's registry CPU spread over every core: no client can sweep faster. */
    readonly sweepFloorSeconds: number;
    /** The DELETEs' registry CPU spread over every core: not even a delete-only tool is faster. */
    readonly deletesFloorSeconds: number;
    /** The curl loop's wall time over that floor: the most any tool could gain here. */
    readonly deletesOnlySpeedupLimit: number;
  };
  readonly planner: readonly PlannerRun[];
  /** The ledger: the facts cache (a cold and a warm plan) and the webhook's recording. */
  readonly ledger: {
    readonly factsCache: FactsCacheRun;
    readonly recording: readonly RecordingRun[];
  };
  readonly lambda: readonly LambdaColdStart[];
  readonly targets: readonly TargetCheck[];
}
