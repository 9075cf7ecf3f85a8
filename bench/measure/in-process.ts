import channels from 'node:diagnostics_channel';

import type { Plan } from '../../lambda/domain';
import { sweepRun, type Phase } from '../../lambda/engine';
import type { Policy } from '../../lambda/policy';
import { REQUEST_KINDS, RegistryClient, type RequestKind, type RequestStats } from '../../lambda/registry';
import { elapsedMs } from '../stats';

/** Requests by kind (RegistryClient.stats) and TCP connections. */
export interface RequestCounts {
  readonly byKind: Record<RequestKind, number>;
  readonly retries: number;
  readonly total: number;
  readonly connections: number;
}

/** One sweep run in this process, split where carrying out the plan begins. */
export interface InProcessSweep {
  readonly wallMs: number;
  /** When each phase started, ms from the start, in order. */
  readonly phases: ReadonlyArray<{ phase: Phase; startMs: number; durationMs: number }>;
  /** Requests before the plan is carried out: exactly what `plan` sends. */
  readonly plan: RequestCounts;
  /** Every request of the sweep, planning included. */
  readonly sweep: RequestCounts;
  readonly result: Plan;
}

/**
 * Runs the engine's `sweepRun` in this process with a {@link RegistryClient} of the default
 * shape, recording its request statistics and phase timings. The plan's requests are those
 * counted when the first `verify` or `remove` progress event arrives (planning is over by then).
 */
export async function sweepInProcess(
  registry: string,
  policy: Policy,
  concurrency: number,
): Promise<InProcessSweep> {
  let connections = 0;
  const onConnect = (): void => {
    connections += 1;
  };
  channels.subscribe('undici:client:connected', onConnect);
  const client = new RegistryClient({ registry, concurrency });
  const started = performance.now();
  const starts: Array<{ phase: Phase; startMs: number }> = [];
  let planCounts: RequestCounts | undefined;
  try {
    const result = await sweepRun({
      client,
      policy,
      concurrency,
      progress: (event) => {
        if (starts[starts.length - 1]?.phase === event.phase) return;
        starts.push({ phase: event.phase, startMs: elapsedMs(started) });
        // Planning is over when the first phase of carrying the plan out begins.
        if ((event.phase === 'verify' || event.phase === 'remove') && !planCounts)
          planCounts = counts(client.stats, connections);
      },
    });
    const wallMs = elapsedMs(started);
    const sweepCounts = counts(client.stats, connections);
    const phases = starts.map((entry, index) => ({
      ...entry,
      durationMs: (starts[index + 1]?.startMs ?? wallMs) - entry.startMs,
    }));
    return { wallMs, phases, plan: planCounts ?? sweepCounts, sweep: sweepCounts, result };
  } finally {
    await client.close();
    channels.unsubscribe('undici:client:connected', onConnect);
  }
}

function counts(stats: RequestStats, connections: number): RequestCounts {
  const byKind = Object.fromEntries(REQUEST_KINDS.map((kind) => [kind, stats[kind]])) as Record<
    RequestKind,
    number
  >;
  const total = REQUEST_KINDS.reduce((sum, kind) => sum + stats[kind], 0);
  return { byKind, retries: stats.retries, total, connections };
}
