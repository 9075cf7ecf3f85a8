import { createServer } from 'node:http';

import { Agent } from 'undici';

import { assertLoopbackUrl, listenOnLoopback } from '../../tools/ports';
import { errorsBody, forward, readBody, relay, rewriteHeaders, sendJson } from './proxy-wire';

/** One request as the proxy sees it on arrival. */
export interface AnsweredRequest {
  readonly method: string;
  readonly path: string;
}

/** An answer the proxy gives itself, without forwarding: a status and a Registry API error code. */
export interface OwnAnswer {
  readonly status: number;
  /** The `errors[0].code` of the JSON body; no body when absent. */
  readonly code?: string;
}

/** Decides, per request: an answer of the proxy's own (the registry never sees it), or undefined to forward. */
export type Answerer = (request: AnsweredRequest) => OwnAnswer | undefined;

export interface AnsweringProxy {
  /** `http://127.0.0.1:<port>`: use it in place of the registry URL. */
  readonly url: string;
  /** `METHOD path` of every request received, in arrival order. */
  readonly requests: readonly string[];
  /** `METHOD path` of the requests the proxy answered itself. */
  readonly answered: readonly string[];
  stop(): Promise<void>;
}

const FORWARD_TIMEOUT_MS = 30_000;

/**
 * A proxy on 127.0.0.1 in front of a 127.0.0.1 registry that answers some requests itself (a
 * registry that claims a DELETE was done, or that is not there, without doing anything; one whose
 * reads of one repository fail) and forwards the others unchanged.
 */
export async function startAnsweringProxy(targetUrl: string, answer: Answerer): Promise<AnsweringProxy> {
  const target = assertLoopbackUrl(targetUrl, 'answering proxy target');
  const agent = new Agent({
    connections: 64,
    headersTimeout: FORWARD_TIMEOUT_MS,
    bodyTimeout: FORWARD_TIMEOUT_MS,
  });
  const requests: string[] = [];
  const answered: string[] = [];
  let proxyOrigin = '';
  const server = createServer((incoming, response) => {
    const request = { method: incoming.method ?? 'GET', path: incoming.url ?? '/' };
    requests.push(`${request.method} ${request.path}`);
    const own = answer(request);
    void (async () => {
      const body = await readBody(incoming);
      if (own) {
        answered.push(`${request.method} ${request.path}`);
        if (own.code === undefined || request.method === 'HEAD')
          return void response.writeHead(own.status, { 'content-length': '0' }).end();
        return sendJson(response, own.status, errorsBody(own.code, 'answered by the answering proxy'));
      }
      const forwarded = await forward(agent, target, request.method, incoming, body);
      const headers = rewriteHeaders(forwarded.headers, target.origin, proxyOrigin);
      relay(response, request.method, forwarded.status, headers, forwarded.body);
    })().catch((error: unknown) => {
      if (!response.headersSent)
        sendJson(response, 502, errorsBody('UNKNOWN', `answering proxy: ${String(error)}`));
      else response.destroy();
    });
  });
  proxyOrigin = await listenOnLoopback(server);
  server.unref();
  return {
    url: proxyOrigin,
    requests,
    answered,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent.close();
    },
  };
}
