import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { listenOnLoopback } from '../../../tools/ports';

/** One POST the registry made. */
export interface ReceivedPost {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A stand-in for the webhook's Function URL on 127.0.0.1: records each post, answers 202. */
export class NotificationListener {
  public readonly posts: ReceivedPost[] = [];
  private readonly server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      this.posts.push({ path: request.url ?? '/', headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(202).end();
      for (const waiter of this.waiters.filter((entry) => this.posts.length >= entry.count)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(this.posts);
      }
    });
  });

  private readonly waiters: Array<{ count: number; resolve: (posts: ReceivedPost[]) => void }> = [];
  private origin?: string;

  public async start(): Promise<this> {
    this.origin = await listenOnLoopback(this.server);
    return this;
  }

  public get url(): string {
    if (!this.origin) throw new Error('NotificationListener is not started');
    return `${this.origin}/`;
  }

  /** Resolves once `count` posts arrived (no poll: the test's timeout is the bound). */
  public waitForPosts(count: number): Promise<ReceivedPost[]> {
    if (this.posts.length >= count) return Promise.resolve(this.posts);
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  public async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * What a Lambda Function URL hands the function for a post (payload 2.0): header names lower-case,
 * a body of a non-text content type (the registry's event types) base64-encoded.
 */
export function functionUrlEvent(post: ReceivedPost): Record<string, unknown> {
  const headers = Object.fromEntries(
    Object.entries(post.headers).map(([name, value]) => [name.toLowerCase(), [value].flat().join(',')]),
  );
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: post.path,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: 'anonymous',
      http: {
        method: 'POST',
        path: post.path,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: 'smoke-notification',
      routeKey: '$default',
      stage: '$default',
      timeEpoch: Date.now(),
    },
    body: post.body.toString('base64'),
    isBase64Encoded: true,
  };
}
