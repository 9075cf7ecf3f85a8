import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { countResults, type Digest } from '../../lambda/domain';
import { acceptWebhook, MAX_WEBHOOK_BODY_BYTES, type RegistryEvent } from '../../lambda/events';
import { sweepRun, unlinkedPushes, type HeldPush } from '../../lambda/engine';
import { recordWithin, type LedgerStore, type RecordingOutcome } from '../../lambda/ledger';
import { policyCoversRepository, type Policy } from '../../lambda/policy';
import { DEFAULT_CONCURRENCY, type RegistryClient } from '../../lambda/registry';
import { CleanupScheduler } from './cleanup-scheduler';

/** How many recent event ids are remembered to drop the registry's redeliveries. */
const SEEN_EVENT_IDS_MAX = 10_000;

/**
 * How long `serve` waits, look after look, before cleaning a repository again while a tag its
 * notifications said was pushed does not resolve to the pushed digest yet (the registry notifies
 * before it links the tag). Every run holds that digest. After the last look (about 110 s in all)
 * serve stops looking on its own but keeps holding it, in every later run, until the tag resolves
 * to it or a newer push of the tag replaces it (or serve restarts): a tag removed meanwhile costs
 * a digest kept, never a digest lost.
 */
export const PUSH_RECHECK_DELAYS_MS: readonly number[] = [500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000];

export interface WebhookServerOptions {
  readonly client: RegistryClient;
  readonly policy: Policy;
  readonly webhookToken: string;
  readonly dryRun?: boolean;
  /** One line per event worth a human's attention (stderr in the CLI). */
  readonly log: (line: string) => void;
  /** @default SETTLE_DELAY_MS (the scheduler's burst-coalescing wait) */
  readonly settleMs?: number;
  /** @default PUSH_RECHECK_DELAYS_MS */
  readonly pushRecheckDelaysMs?: readonly number[];
  /**
   * Where each notification's pushes, pulls and deletes are recorded (within `recordBudgetMs`,
   * whatever the store does), and what the cleanups plan with and archive into. Absent: nothing
   * is recorded (a policy that needs a ledger must have been refused at load).
   */
  readonly ledger?: LedgerStore;
  /** @default RECORD_BUDGET_MS (1 s) */
  readonly recordBudgetMs?: number;
  /** The clock of the cleanups' plans and of events that carry no time; default: the system clock. */
  readonly now?: () => Date;
}

/** What `serve` did with the ledger events of every notification so far (see `GET /healthz`). */
export interface LedgerTotals {
  notifications: number;
  recorded: number;
  duplicates: number;
  throttled: number;
  ignored: number;
  lost: number;
}

export interface WebhookServer {
  readonly server: Server;
  readonly scheduler: CleanupScheduler;
  /** Ledger events of the notifications so far, by outcome (all zero without a ledger). */
  readonly ledgerTotals: Readonly<LedgerTotals>;
  /** `http://host:port` once listening. */
  url(): string;
  /** Stops accepting, lets running cleanups finish, closes. */
  close(): Promise<void>;
}

/**
 * `regsweep serve`: the registry's notification endpoint without AWS. `POST /webhook` runs the same
 * gate and parsing as the Lambda webhook and cleans each pushed repository (one run at a time per
 * repository, bursts coalesced); `GET /healthz` reports liveness and load.
 *
 * With a ledger, every notification that passes the gate has its manifest events (pushes, pulls,
 * deletes, also those that clean nothing) recorded before the answer, within the record budget:
 * what the store does not take in time, or fails to take, is lost and logged, and the registry
 * gets its 202 all the same (a retry would only meet the same store). Notifications that record
 * nothing (pulls within the hour, regsweep's own and ignored agents' pulls) log no line.
 */
export function createWebhookServer(options: WebhookServerOptions): WebhookServer {
  const seen = new Set<string>();
  const recheckDelaysMs = options.pushRecheckDelaysMs ?? PUSH_RECHECK_DELAYS_MS;
  // Pushed tags not yet seen resolving to their digest, per repository: held in every run.
  const held = new Map<string, Map<string, { digest: Digest; looks: number }>>();
  const rechecks = new Set<NodeJS.Timeout>();
  let closing = false;
  const now = options.now ?? ((): Date => new Date());
  const ledgerTotals: LedgerTotals = {
    notifications: 0,
    recorded: 0,
    duplicates: 0,
    throttled: 0,
    ignored: 0,
    lost: 0,
  };
  const scheduler = new CleanupScheduler(
    async (repository) => {
      const started = Date.now();
      const pushes = heldPushesOf(repository);
      let pending = pushes;
      try {
        const plan = await sweepRun({
          client: options.client,
          policy: options.policy,
          repositories: [repository],
          dryRun: options.dryRun ?? false,
          now,
          ...(options.ledger && {
            ledger: options.ledger,
            warn: (message: string) => options.log(`${repository}: ${message}`),
          }),
          // Read at re-verification: a push notified while this run plans is held too.
          heldPushes: { get: (name) => heldPushesOf(name) },
        });
        // A dry run removes nothing: there is nothing to hold for.
        pending = options.dryRun
          ? []
          : await unlinkedPushes(options.client, repository, pushes, DEFAULT_CONCURRENCY);
        const counts = countResults(plan);
        for (const failed of plan.repositories)
          if (failed.error !== undefined) options.log(`${failed.name}: cleanup failed: ${failed.error}`);
        options.log(
          `${repository}: ${counts.deleted} deleted, ${counts.untagged} untagged, ` +
            `${counts.kept} kept, ${counts.skippedChanged} skipped, ` +
            `${counts.failed} failed${options.dryRun ? ' (dry run)' : ''} in ${Date.now() - started} ms` +
            (pending.length > 0 ? `; held until linked: ${pending.map((push) => push.tag).join(', ')}` : ''),
        );
      } catch (error) {
        options.log(
          `${repository}: cleanup failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      lookAgainLater(repository, pushes, pending);
    },
    { ...(options.settleMs !== undefined && { settleMs: options.settleMs }) },
  );

  function heldPushesOf(repository: string): HeldPush[] {
    return [...(held.get(repository) ?? [])].map(([tag, { digest }]) => ({ tag, digest }));
  }

  /** Forgets the pushes now linked; keeps the others held and asks for another run after a wait. */
  const lookAgainLater = (
    repository: string,
    looked: readonly HeldPush[],
    pending: readonly HeldPush[],
  ): void => {
    const entries = held.get(repository);
    if (!entries) return;
    let next: number | undefined;
    for (const push of looked) {
      const entry = entries.get(push.tag);
      // Pushed again meanwhile: that newer push is looked at on its own.
      if (entry?.digest !== push.digest) continue;
      if (!pending.some((other) => other.tag === push.tag)) {
        entries.delete(push.tag);
        continue;
      }
      entry.looks += 1;
      const delay = recheckDelaysMs[entry.looks - 1];
      if (delay !== undefined) {
        next = Math.min(next ?? delay, delay);
      } else if (entry.looks === recheckDelaysMs.length + 1) {
        options.log(
          `${repository}: ${push.tag} still does not resolve to ${push.digest} after ${entry.looks} looks: ` +
            'still held, looked at again only with the next notification',
        );
      }
    }
    if (entries.size === 0) held.delete(repository);
    if (next === undefined || closing) return;
    const timer = setTimeout(() => {
      rechecks.delete(timer);
      scheduler.request(repository);
    }, next);
    rechecks.add(timer);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/healthz' && (request.method === 'GET' || request.method === 'HEAD')) {
      return send(response, 200, {
        status: 'ok',
        ...scheduler.load,
        ...(options.ledger && { ledger: ledgerTotals }),
      });
    }
    if (path !== '/webhook')
      return send(response, 404, { message: 'not found: POST /webhook or GET /healthz' });

    // At most one byte past the limit is read: enough for the gate to answer 413.
    const body = await readBody(request, MAX_WEBHOOK_BODY_BYTES + 1);
    if (!body.complete) closeAfterReply(request, response);
    const decision = acceptWebhook(
      { method: request.method, headers: flattenHeaders(request), body: body.text },
      { webhookToken: options.webhookToken, now: now() },
    );
    if (decision.statusCode !== 202)
      return send(response, decision.statusCode, { message: decision.message });

    // Recorded before the cleanup is asked for, so that its plan sees this push's time.
    if (options.ledger && decision.events.length > 0) await record(options.ledger, decision.events);
    let queued = 0;
    for (const entry of decision.repositories) {
      const fresh = entry.eventIds.length === 0 || entry.eventIds.some((id) => !seen.has(id));
      for (const id of entry.eventIds) remember(seen, id);
      if (fresh && policyCoversRepository(options.policy, entry.repository)) {
        const entries = held.get(entry.repository) ?? new Map<string, { digest: Digest; looks: number }>();
        for (const push of entry.pushed) entries.set(push.tag, { digest: push.digest, looks: 0 });
        if (entries.size > 0) held.set(entry.repository, entries);
        scheduler.request(entry.repository);
        queued += 1;
      }
    }
    send(response, 202, { message: decision.message, queued });
  };

  /**
   * Records a notification's events (the gate's parse: one per body) within the budget; never
   * throws, logs what it lost.
   */
  const record = async (ledger: LedgerStore, events: readonly RegistryEvent[]): Promise<void> => {
    const outcome: RecordingOutcome = await recordWithin(ledger, events, {
      ignorePullsFrom: options.policy.ledger.ignorePullsFrom,
      ...(options.recordBudgetMs !== undefined && { budgetMs: options.recordBudgetMs }),
    });
    ledgerTotals.notifications += 1;
    ledgerTotals.recorded += outcome.recorded;
    ledgerTotals.duplicates += outcome.duplicates;
    ledgerTotals.throttled += outcome.throttled;
    ledgerTotals.ignored += outcome.ignored;
    ledgerTotals.lost += outcome.lost;
    if (outcome.recorded + outcome.duplicates + outcome.lost === 0) return;
    options.log(
      `ledger: ${outcome.recorded} recorded, ${outcome.duplicates} duplicate, ${outcome.throttled} throttled, ` +
        `${outcome.ignored} ignored, ${outcome.lost} lost` +
        (outcome.error !== undefined ? `: ${outcome.error}` : ''),
    );
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => send(response, 400, { message: 'bad request' }));
  });
  return {
    server,
    scheduler,
    ledgerTotals,
    url: () => {
      const address = server.address() as AddressInfo;
      return `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;
    },
    close: async () => {
      closing = true;
      for (const timer of rechecks) clearTimeout(timer);
      rechecks.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await scheduler.drain();
    },
  };
}

function remember(seen: Set<string>, id: string): void {
  seen.add(id);
  if (seen.size > SEEN_EVENT_IDS_MAX) seen.delete(seen.values().next().value as string);
}

/** For a body left unread: tell the client, and drop the connection once the answer is out. */
function closeAfterReply(request: IncomingMessage, response: ServerResponse): void {
  response.setHeader('connection', 'close');
  response.on('finish', () => request.socket.destroy());
}

function flattenHeaders(request: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/**
 * Reads at most `maxBytes` of the body as UTF-8. A longer body is not read further: the stream is
 * paused and `complete` is false, so the caller answers and closes the connection.
 */
function readBody(request: IncomingMessage, maxBytes: number): Promise<{ text: string; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= maxBytes) {
        request.off('data', onData);
        request.pause();
        resolve({ text: Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8'), complete: false });
      }
    };
    request.on('data', onData);
    request.on('end', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), complete: true }));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
