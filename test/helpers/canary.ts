import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

import { listenOnLoopback } from '../../tools/ports';

/** One request a canary received. */
export interface CanaryHit {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
}

/** A 127.0.0.1 server that records every request: where nothing may ever go, or a fake registry. */
export interface Canary {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly hits: CanaryHit[];
  stop(): Promise<void>;
}

/**
 * Starts a canary. Without `answer` every request gets `404 {}`; with it, `answer` writes the
 * response (the request body has been read by then).
 */
export async function startCanary(
  answer?: (hit: CanaryHit, response: ServerResponse) => void,
): Promise<Canary> {
  const hits: CanaryHit[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    const hit = { method: request.method ?? '', path: request.url ?? '', headers: request.headers };
    hits.push(hit);
    request.resume();
    request.on('end', () => {
      if (answer) return answer(hit, response);
      response.writeHead(404, { 'content-type': 'application/json', 'content-length': 2 }).end('{}');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const url = await listenOnLoopback(server);
  server.unref();
  return {
    url,
    hits,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
