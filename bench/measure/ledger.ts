import { randomUUID, createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Plan } from '../../lambda/domain';
import { planRun } from '../../lambda/engine';
import { registryEventsOf } from '../../lambda/events';
import { DynamoDbLedgerStore, recordWithin, SqliteLedgerStore, type LedgerStore } from '../../lambda/ledger';
import type { Policy } from '../../lambda/policy';
import { RegistryClient, REQUEST_KINDS, type RequestKind } from '../../lambda/registry';
import { startDynalite } from '../../tools/dynalite';
import { elapsedMs } from '../stats';

/** One plan with a ledger, in process: its requests and its time. */
export interface LedgerPlanRun {
  readonly wallMs: number;
  readonly requests: number;
  readonly byKind: Record<RequestKind, number>;
  readonly requestsPerTag: number;
}

/** A cold plan (an empty ledger) and a warm one (the facts the cold one wrote), on one registry. */
export interface FactsCacheRun {
  readonly tags: number;
  readonly cold: LedgerPlanRun;
  readonly warm: LedgerPlanRun;
  /** The two plans decide the same (actions, reasons, created: everything but the time). */
  readonly samePlan: boolean;
}

/**
 * Plans twice with a fresh SQLite ledger, in process: cold, then warm. Every request the client
 * sends is counted (each attempt, token fetches and listings included).
 */
export async function measureFactsCache(
  registry: string,
  policy: Policy,
  concurrency: number,
  tags: number,
): Promise<FactsCacheRun> {
  const directory = mkdtempSync(join(tmpdir(), 'regsweep-bench-facts-'));
  const ledger = new SqliteLedgerStore({ file: join(directory, 'ledger.db') });
  try {
    const cold = await countedPlan(registry, policy, concurrency, ledger, tags);
    const warm = await countedPlan(registry, policy, concurrency, ledger, tags);
    return {
      tags,
      cold: cold.run,
      warm: warm.run,
      samePlan: JSON.stringify(decisions(cold.plan)) === JSON.stringify(decisions(warm.plan)),
    };
  } finally {
    await ledger.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

async function countedPlan(
  registry: string,
  policy: Policy,
  concurrency: number,
  ledger: LedgerStore,
  tags: number,
): Promise<{ run: LedgerPlanRun; plan: Plan }> {
  const byKind = Object.fromEntries(REQUEST_KINDS.map((kind) => [kind, 0])) as Record<RequestKind, number>;
  const client = new RegistryClient({
    registry,
    concurrency,
    onRequest: ({ kind }) => {
      byKind[kind] += 1;
    },
  });
  try {
    const started = performance.now();
    const { plan } = await planRun({ client, policy, concurrency, ledger });
    const wallMs = elapsedMs(started);
    const requests = Object.values(byKind).reduce((sum, count) => sum + count, 0);
    return { run: { wallMs, requests, byKind, requestsPerTag: requests / tags }, plan };
  } finally {
    await client.close();
  }
}

function decisions(plan: Plan): unknown {
  const { generatedAt: _generatedAt, ...rest } = plan;
  return rest;
}

/** Where the ledger's store lives in a recording run. */
export type RecordingStore = 'sqlite' | 'dynalite';

/** Notifications posted to the ledger's recorder, one after another, as the webhook records them. */
export interface RecordingRun {
  readonly store: RecordingStore;
  readonly notifications: number;
  readonly eventsPerNotification: number;
  readonly events: number;
  readonly wallMs: number;
  readonly eventsPerSecond: number;
  /** Per notification: parsing the body and recording its events (`recordWithin`). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Events the recorder took (written, or throttled pulls), and those it lost (store failure or budget). */
  readonly handled: number;
  readonly lost: number;
  /** SQLite only: the file's bytes after the run (closed, WAL checkpointed), and per 100k events. */
  readonly fileBytes?: number;
  readonly bytesPer100kEvents?: number;
}

/** Events per notification: distribution batches a few per post. Half pushes of new tags, half pulls. */
export const EVENTS_PER_NOTIFICATION = 10;

/**
 * Records `events` events (pushes of new tagged manifests and client pulls of them, in
 * distribution v1 envelopes of {@link EVENTS_PER_NOTIFICATION}) the way the webhook does:
 * `registryEventsOf` then `recordWithin` with its default budget, one notification at a time.
 */
export async function measureRecording(store: RecordingStore, events: number): Promise<RecordingRun> {
  const directory = mkdtempSync(join(tmpdir(), 'regsweep-bench-ledger-'));
  const file = join(directory, 'ledger.db');
  const dynalite = store === 'dynalite' ? await startDynalite() : undefined;
  let ledger: LedgerStore;
  if (dynalite) {
    await dynalite.createLedgerTable('bench-ledger');
    ledger = new DynamoDbLedgerStore({ tableName: 'bench-ledger', clientConfig: dynalite.clientConfig });
  } else {
    ledger = new SqliteLedgerStore({ file });
  }
  const notifications = Math.ceil(events / EVENTS_PER_NOTIFICATION);
  const latencies: number[] = [];
  let handled = 0;
  let lost = 0;
  try {
    const started = performance.now();
    for (let n = 0; n < notifications; n += 1) {
      const body = notificationBody(n);
      const posted = performance.now();
      const parsed = registryEventsOf(body, { now: new Date() });
      const outcome = await recordWithin(ledger, parsed.events);
      latencies.push(elapsedMs(posted));
      handled += outcome.recorded + outcome.throttled + outcome.duplicates + outcome.ignored;
      lost += outcome.lost;
    }
    const wallMs = elapsedMs(started);
    await ledger.close();
    const total = notifications * EVENTS_PER_NOTIFICATION;
    const fileBytes = dynalite ? undefined : statSync(file).size;
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      store,
      notifications,
      eventsPerNotification: EVENTS_PER_NOTIFICATION,
      events: total,
      wallMs,
      eventsPerSecond: total / (wallMs / 1000),
      p50Ms: quantile(sorted, 0.5),
      p99Ms: quantile(sorted, 0.99),
      handled,
      lost,
      ...(fileBytes !== undefined && { fileBytes, bytesPer100kEvents: (fileBytes / total) * 100_000 }),
    };
  } finally {
    await dynalite?.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

/**
 * Notification `n`: five pushes of new tags (20 repositories, a new digest each) and five pulls
 * by docker of digests pushed in earlier notifications.
 */
function notificationBody(n: number): string {
  const half = EVENTS_PER_NOTIFICATION / 2;
  const events = [];
  for (let i = 0; i < half; i += 1) {
    const index = n * half + i;
    events.push(event('push', index, index));
  }
  for (let i = 0; i < half; i += 1) {
    const index = n * half + i;
    events.push(event('pull', index, Math.max(0, index - 7 * half)));
  }
  return JSON.stringify({ events });
}

function event(action: 'push' | 'pull', index: number, image: number): Record<string, unknown> {
  const digest = `sha256:${createHash('sha256').update(`bench image ${image}`).digest('hex')}`;
  return {
    id: randomUUID(),
    timestamp: new Date().toISOString(),
    action,
    target: {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      size: 1_234,
      digest,
      length: 1_234,
      repository: `bench/svc-${String(image % 20).padStart(2, '0')}`,
      ...(action === 'push' && { tag: `main-${image}` }),
    },
    request: {
      id: randomUUID(),
      method: action === 'push' ? 'PUT' : 'GET',
      useragent: `docker/24.0.7 go/go1.20.10 (bench ${index})`,
    },
    actor: {},
    source: { instanceID: 'bench' },
  };
}
