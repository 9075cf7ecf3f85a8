import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

import { listenOnLoopback } from '../../../tools/ports';

import { RegistryClient, type RegistryClientOptions } from '../../../lambda/registry';

/** One request as the server saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
}

/** A tiny HTTP server on 127.0.0.1 playing a registry (or a token service) for one test. */
export interface LocalServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

export type Handler = (request: IncomingMessage, response: ServerResponse, seen: SeenRequest[]) => void;

/** Starts a server answering with `handler`; `close()` also destroys open keep-alive sockets. */
export async function startLocalServer(handler: Handler): Promise<LocalServer> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    // Drain any request body before answering so the connection can be reused.
    request.resume();
    request.on('end', () => handler(request, response, requests));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const url = await listenOnLoopback(server);
  return {
    url,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A local server and a {@link RegistryClient} pointed at it, for one test. */
export interface LocalRegistry {
  readonly server: LocalServer;
  readonly client: RegistryClient;
}

/**
 * Call at `describe` level: registers an `afterEach` that closes what the block's tests opened,
 * so a failing test cannot leave a keep-alive socket or a listening server behind for the next one.
 * `start` serves `handler` and connects a client to it (with `clientOptions` added); `connect`
 * opens a client on any registry URL, for the tests that need no server (an unreachable port).
 */
export function localRegistries(): {
  start(handler: Handler, clientOptions?: Omit<RegistryClientOptions, 'registry'>): Promise<LocalRegistry>;
  connect(options: RegistryClientOptions): RegistryClient;
} {
  let server: LocalServer | undefined;
  let client: RegistryClient | undefined;

  afterEach(async () => {
    await client?.close();
    await server?.close();
    client = undefined;
    server = undefined;
  });

  const connect = (options: RegistryClientOptions): RegistryClient => (client = new RegistryClient(options));
  return {
    connect,
    async start(handler, clientOptions = {}) {
      const started = await startLocalServer(handler);
      server = started;
      return { server: started, client: connect({ registry: started.url, ...clientOptions }) };
    },
  };
}

/** Answers with a JSON body and the given status and headers. */
export function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const bytes = Buffer.from(JSON.stringify(body));
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': bytes.length,
    ...headers,
  });
  response.end(bytes);
}

/** The registry's error body. */
export function registryError(code: string, message = code.toLowerCase().replace(/_/g, ' ')): unknown {
  return { errors: [{ code, message, detail: null }] };
}
