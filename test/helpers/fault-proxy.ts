import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Agent, request, type Dispatcher } from 'undici';

import { assertLoopbackUrl, LOOPBACK_HOST } from './ports';

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
// Connection-level headers belong to one hop; the proxy frames each side itself.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-connection',
  'expect',
  'host',
  'content-length',
]);

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
    const total =
      (next.rate503 ?? 0) + (next.rate429 ?? 0) + (next.resetRate ?? 0) + (next.truncateRate ?? 0);
    if (total > 1) throw new RangeError(`fault rates add up to ${total}, more than 1`);
    plan = next;
    random = mulberry32(next.seed ?? 1);
    scriptPosition = 0;
  };
  setPlan(initialPlan);

  const chooseFault = (method: string, path: string): Fault => {
    if (plan.match && !plan.match({ method, path })) return 'ok';
    if (plan.script) return plan.script[scriptPosition++] ?? 'ok';
    let draw = random();
    for (const [fault, rate] of [
      ['reset', plan.resetRate],
      ['truncate', plan.truncateRate],
      ['503', plan.rate503],
      ['429', plan.rate429],
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
    const latencyMs = plan.latencyMs ?? 0;
    const resetBeforeForward = plan.resetBeforeForward ?? false;
    const retryAfterSeconds = plan.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
    void handle({
      incoming,
      response,
      method,
      fault,
      latencyMs,
      resetBeforeForward,
      retryAfterSeconds,
    }).catch((error: unknown) => {
      // The target itself failed (refused, timed out): say so as a gateway error.
      if (!response.headersSent)
        sendJson(response, 502, errorsBody('UNKNOWN', `fault proxy: ${String(error)}`));
      else response.destroy();
    });
  });

  interface Handling {
    incoming: IncomingMessage;
    response: ServerResponse;
    method: string;
    fault: Fault;
    latencyMs: number;
    resetBeforeForward: boolean;
    retryAfterSeconds: number;
  }
  const handle = async (job: Handling): Promise<void> => {
    const { incoming, response, fault } = job;
    const body = await readBody(incoming);
    if (job.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, job.latencyMs));
    if (fault === '503')
      return sendJson(response, 503, errorsBody('UNAVAILABLE', 'injected by the fault proxy'));
    if (fault === '429') {
      response.setHeader('retry-after', String(job.retryAfterSeconds));
      return sendJson(response, 429, errorsBody('TOOMANYREQUESTS', 'injected by the fault proxy'));
    }
    if (fault === 'reset' && job.resetBeforeForward) return void incoming.socket.destroy();

    const forwarded = await forward(agent, target, job.method, incoming, body);
    if (fault === 'reset') return void incoming.socket.destroy();
    const headers = rewriteHeaders(forwarded.headers, target.origin, proxyOrigin);
    if (fault === 'truncate')
      return truncate(response, job.method, forwarded.status, headers, forwarded.body);
    response.writeHead(forwarded.status, {
      ...headers,
      'content-length': contentLength(job.method, headers, forwarded.body),
    });
    response.end(job.method === 'HEAD' ? undefined : forwarded.body);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK_HOST, resolve);
  });
  server.unref();
  proxyOrigin = `http://${LOOPBACK_HOST}:${(server.address() as AddressInfo).port}`;

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

async function readBody(incoming: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function forward(
  agent: Dispatcher,
  target: URL,
  method: string,
  incoming: IncomingMessage,
  body: Buffer,
): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }> {
  const headers: Record<string, string | string[]> = { host: target.host };
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  const response = await request(new URL(incoming.url ?? '/', target.origin), {
    method: method as Dispatcher.HttpMethod,
    headers,
    ...(body.length > 0 && { body }),
    dispatcher: agent,
  });
  const responseBody = Buffer.from(await response.body.arrayBuffer());
  const responseHeaders: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) responseHeaders[name] = value;
  }
  // HEAD answers carry the length of the body they do not send: keep it.
  const length = response.headers['content-length'];
  if (method === 'HEAD' && typeof length === 'string') responseHeaders['content-length'] = length;
  return { status: response.statusCode, headers: responseHeaders, body: responseBody };
}

/** Points `Location` and `Link` targets at the proxy, so the client's next request comes back here. */
function rewriteHeaders(
  headers: Record<string, string | string[]>,
  targetOrigin: string,
  proxyOrigin: string,
): Record<string, string | string[]> {
  const rewritten = { ...headers };
  for (const name of ['location', 'link']) {
    const value = rewritten[name];
    if (typeof value === 'string') rewritten[name] = value.split(targetOrigin).join(proxyOrigin);
  }
  return rewritten;
}

function contentLength(method: string, headers: Record<string, string | string[]>, body: Buffer): string {
  const declared = headers['content-length'];
  return method === 'HEAD' && typeof declared === 'string' ? declared : String(body.length);
}

/**
 * Writes the response raw with its full `Content-Length` but only half the body, then destroys
 * the socket. A HEAD (or empty) answer has no body to cut, so its header block is cut instead.
 */
function truncate(
  response: ServerResponse,
  method: string,
  status: number,
  headers: Record<string, string | string[]>,
  body: Buffer,
): void {
  const socket = response.socket;
  if (!socket) return;
  const lines = [`HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Status'}`];
  for (const [name, value] of Object.entries(headers)) {
    if (name === 'content-length') continue;
    for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${item}`);
  }
  lines.push(`content-length: ${contentLength(method, headers, body)}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const cut =
    method === 'HEAD' || body.length === 0
      ? head.subarray(0, Math.floor(head.length / 2))
      : Buffer.concat([head, body.subarray(0, Math.floor(body.length / 2))]);
  socket.write(cut, () => socket.destroy());
}

function errorsBody(code: string, message: string): unknown {
  return { errors: [{ code, message, detail: null }] };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
