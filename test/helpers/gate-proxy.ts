import { createServer } from 'node:http';

import { Agent } from 'undici';

import { assertLoopbackUrl, listenOnLoopback } from '../../tools/ports';
import { errorsBody, forward, readBody, relay, rewriteHeaders, sendJson } from './proxy-wire';

/** One request as the gate sees it on arrival. */
export interface GatedRequest {
  readonly method: string;
  readonly path: string;
  /** 1 for the first request the proxy received, 2 for the next, ... */
  readonly index: number;
}

/**
 * Decides what happens before a request is forwarded. Called on arrival, in arrival order; the
 * request waits until the returned promise settles. Use it to count requests, to act at a chosen
 * point of a run (kill the client, change the registry), or to hold everything meanwhile.
 */
export type GateHook = (request: GatedRequest) => Promise<void> | void;

export interface GateProxy {
  /** `http://127.0.0.1:<port>`: use it in place of the registry URL. */
  readonly url: string;
  /** Requests received so far. */
  readonly requests: number;
  stop(): Promise<void>;
}

const FORWARD_TIMEOUT_MS = 30_000;

/**
 * A pass-through proxy on 127.0.0.1 that runs `hook` before forwarding each request to a
 * 127.0.0.1 target: the fault proxy's plumbing without faults, plus the ability to hold requests.
 * A hook that throws answers the request 502.
 */
export async function startGateProxy(targetUrl: string, hook: GateHook): Promise<GateProxy> {
  const target = assertLoopbackUrl(targetUrl, 'gate proxy target');
  const agent = new Agent({
    connections: 64,
    headersTimeout: FORWARD_TIMEOUT_MS,
    bodyTimeout: FORWARD_TIMEOUT_MS,
  });
  let requests = 0;
  let proxyOrigin = '';
  const server = createServer((incoming, response) => {
    requests += 1;
    const request = { method: incoming.method ?? 'GET', path: incoming.url ?? '/', index: requests };
    const gate = Promise.resolve().then(() => hook(request));
    void (async () => {
      const body = await readBody(incoming);
      await gate;
      const forwarded = await forward(agent, target, request.method, incoming, body);
      const headers = rewriteHeaders(forwarded.headers, target.origin, proxyOrigin);
      relay(response, request.method, forwarded.status, headers, forwarded.body);
    })().catch((error: unknown) => {
      if (!response.headersSent)
        sendJson(response, 502, errorsBody('UNKNOWN', `gate proxy: ${String(error)}`));
      else response.destroy();
    });
  });
  proxyOrigin = await listenOnLoopback(server);
  server.unref();
  return {
    url: proxyOrigin,
    get requests() {
      return requests;
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent.close();
    },
  };
}
