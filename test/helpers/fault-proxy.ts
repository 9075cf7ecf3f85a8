import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

import { Agent } from 'undici';

import { assertLoopbackUrl, listenOnLoopback } from '../../tools/ports';
import { errorsBody, forward, readBody, relay, rewriteHeaders, sendJson, truncate } from './proxy-wire';

/** What the proxy does to one request. */
export type Fault = 'ok' | '503' | '429' | 'reset' | 'truncate';

/**
 * Which faults to inject. A `script` is applied to the (matching) requests in order, then every
 * request is `ok`; without a script each request draws from the seeded rates (in the order
 * reset, truncate, 503, 429), so the same seed and the same request order give the same faults.
 */
export interface FaultPlan {
  /** PRNG seed. @default 1 */
  seed?: number;
  /** Share of requests (0..1) answered 503 with a JSON errors body, not forwarded. */
  rate503?: number;
  /** Share of requests answered 429 with `Retry-After`, not forwarded. */
  rate429?: number;
  /** `Retry-After` of a 429, in seconds. @default 1 */
  retryAfterSeconds?: number;
  /** Share of requests whose connection is destroyed without an answer. */
  resetRate?: number;
  /** Share of requests answered with fewer body bytes than `Content-Length` says, then destroyed. */
  truncateRate?: number;
  /** Delay before each request is handled, in milliseconds. @default 0 */
  latencyMs?: number;
  /** Explicit faults for the first matching requests, in order; `ok` after the script runs out. */
  script?: Fault[];
  /**
   * A reset normally happens after the target handled the request (a DELETE did happen, the
   * client just never hears it). True resets before forwarding instead. @default false
   */
  resetBeforeForward?: boolean;
  /** Only requests for which this is true get faults (and use up the script). @default all */
  match?: (request: { method: string; path: string }) => boolean;
  /**
   * Other rates for some requests (e.g. DELETEs failing often enough to exhaust retries): the
   * first override whose `match` is true replaces the four rates above for that request.
   */
  overrides?: Array<
    Pick<FaultPlan, 'rate503' | 'rate429' | 'resetRate' | 'truncateRate'> & {
      match: (request: { method: string; path: string }) => boolean;
    }
  >;
}

/** One handled request, for assertions. */
export interface FaultRecord {
  method: string;
  path: string;
  fault: Fault;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: use it in place of the registry URL. */
  readonly url: string;
  /** Requests per fault since start (cumulative across `setPlan`). */
  readonly counts: Record<Fault, number>;
  /** Requests received since start. */
  readonly requests: number;
  /** The most recent requests, oldest first (at most {@link MAX_HISTORY_RECORDS}). */
  readonly history: readonly FaultRecord[];
  /** Replaces the plan; the script starts over and the PRNG is seeded again. */
  setPlan(plan: FaultPlan): void;
  stop(): Promise<void>;
}

/** History is capped so that a long benchmark does not grow memory without bound. */
export const MAX_HISTORY_RECORDS = 10_000;
const DEFAULT_RETRY_AFTER_SECONDS = 1;
const FORWARD_TIMEOUT_MS = 30_000;
/** mulberry32: a tiny seeded PRNG, uniform on [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** Starts a fault-injecting proxy on a free 127.0.0.1 port in front of a 127.0.0.1 target. */
export async function startFaultProxy(targetUrl: string, initialPlan: FaultPlan = {}): Promise<FaultProxy> {
  const target = assertLoopbackUrl(targetUrl, 'fault proxy target');
  const agent = new Agent({
    connections: 64,
    headersTimeout: FORWARD_TIMEOUT_MS,
    bodyTimeout: FORWARD_TIMEOUT_MS,
  });
  const counts: Record<Fault, number> = { ok: 0, '503': 0, '429': 0, reset: 0, truncate: 0 };
  const history: FaultRecord[] = [];
  let requests = 0;
  let plan: FaultPlan = {};
  let random = mulberry32(1);
  let scriptPosition = 0;
  const setPlan = (next: FaultPlan): void => {
    for (const rates of [next, ...(next.overrides ?? [])]) {
      const total =
        (rates.rate503 ?? 0) + (rates.rate429 ?? 0) + (rates.resetRate ?? 0) + (rates.truncateRate ?? 0);
      if (total > 1) throw new RangeError(`fault rates add up to ${total}, more than 1`);
    }
    plan = next;
    random = mulberry32(next.seed ?? 1);
    scriptPosition = 0;
  };
  setPlan(initialPlan);

  const chooseFault = (method: string, path: string): Fault => {
    if (plan.match && !plan.match({ method, path })) return 'ok';
    if (plan.script) return plan.script[scriptPosition++] ?? 'ok';
    const rates = plan.overrides?.find((override) => override.match({ method, path })) ?? plan;
    let draw = random();
    for (const [fault, rate] of [
      ['reset', rates.resetRate],
      ['truncate', rates.truncateRate],
      ['503', rates.rate503],
      ['429', rates.rate429],
    ] as const) {
      draw -= rate ?? 0;
      if (draw < 0) return fault;
    }
    return 'ok';
  };

  let proxyOrigin = '';
  const server = createServer((incoming, response) => {
    requests += 1;
    const method = incoming.method ?? 'GET';
    const path = incoming.url ?? '/';
    // Decide at arrival, before any await, so the script follows the order requests came in.
    const fault = chooseFault(method, path);
    counts[fault] += 1;
    history.push({ method, path, fault });
    if (history.length > MAX_HISTORY_RECORDS) history.shift();
    // The plan in force when the request arrived applies to it, even if setPlan runs meanwhile.
    void handle(incoming, response, fault, plan).catch((error: unknown) => {
      // The target itself failed (refused, timed out): say so as a gateway error.
      if (!response.headersSent)
        sendJson(response, 502, errorsBody('UNKNOWN', `fault proxy: ${String(error)}`));
      else response.destroy();
    });
  });

  const handle = async (
    incoming: IncomingMessage,
    response: ServerResponse,
    fault: Fault,
    arrivalPlan: FaultPlan,
  ): Promise<void> => {
    const method = incoming.method ?? 'GET';
    const body = await readBody(incoming);
    const latencyMs = arrivalPlan.latencyMs ?? 0;
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    if (fault === '503') {
      return sendJson(response, 503, errorsBody('UNAVAILABLE', 'injected by the fault proxy'));
    }
    if (fault === '429') {
      const retryAfterSeconds = arrivalPlan.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
      response.setHeader('retry-after', String(retryAfterSeconds));
      return sendJson(response, 429, errorsBody('TOOMANYREQUESTS', 'injected by the fault proxy'));
    }
    if (fault === 'reset' && arrivalPlan.resetBeforeForward) return void incoming.socket.destroy();

    const forwarded = await forward(agent, target, method, incoming, body);
    if (fault === 'reset') return void incoming.socket.destroy();
    const headers = rewriteHeaders(forwarded.headers, target.origin, proxyOrigin);
    const answer = fault === 'truncate' ? truncate : relay;
    answer(response, method, forwarded.status, headers, forwarded.body);
  };

  proxyOrigin = await listenOnLoopback(server);
  server.unref();

  return {
    url: proxyOrigin,
    counts,
    get requests() {
      return requests;
    },
    history,
    setPlan,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent.close();
    },
  };
}
