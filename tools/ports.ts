import { createServer, type Server } from 'node:net';

/** The only address the harness ever binds or calls. */
export const LOOPBACK_HOST = '127.0.0.1';

/**
 * Binds `server` (an HTTP or TCP server) to a port the kernel picks on 127.0.0.1; returns its
 * origin, `http://127.0.0.1:<port>`.
 */
export async function listenOnLoopback(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('could not read the bound port');
  return `http://${LOOPBACK_HOST}:${address.port}`;
}

/**
 * A TCP port that was free on 127.0.0.1 a moment ago: binds port 0, reads the port the kernel
 * chose, and releases it. Another process may take it before the caller binds it; the kernel
 * hands out ephemeral ports round-robin, so that race is rare enough for tests.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK_HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => (port ? resolve(port) : reject(new Error('could not read the bound port'))));
    });
  });
}

/**
 * Throws unless `url` points at this machine's loopback interface: tests must never send
 * traffic anywhere else, and a URL from configuration or an event payload is checked first.
 */
export function assertLoopbackUrl(url: string, what: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new Error(`${what}: '${url}' is not a URL`, { cause: error });
  }
  if (parsed.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)) {
    throw new Error(
      `${what}: '${parsed.origin}' is not an http URL on 127.0.0.1; the test harness calls nothing else`,
    );
  }
  return parsed;
}
