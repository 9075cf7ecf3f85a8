import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

import { DISTRIBUTION_EVENTS_V1 } from '../../lambda/events';
import { assertLoopbackUrl, listenOnLoopback } from '../../tools/ports';

/** One notification post as the relay received it from the registry. */
export interface RelayedPost {
  readonly body: string;
  readonly headers: Record<string, string>;
}

export interface NotificationRelay {
  /** `http://127.0.0.1:<port>/webhook`: the registry's notification endpoint. */
  readonly url: string;
  /** Every post received, in order. */
  readonly posts: readonly RelayedPost[];
  /** From now on, posts are forwarded to `target` (before: answered 202 and only recorded). */
  forwardTo(target: string): void;
  /** Resolves once a received post names a push of `repository:tag`. */
  pushed(repository: string, tag: string): Promise<void>;
  /**
   * Posts naming a push of `repository:tag` are forwarded only once `until` resolves: the
   * registry notifies a push before it links the tag, and a test can make the webhook see the
   * notification after the link.
   */
  holdPushesOf(repository: string, tag: string, until: Promise<unknown>): void;
  stop(): Promise<void>;
}

/**
 * Stands between the registry and a webhook on 127.0.0.1: records the registry's real
 * notification posts and, once told to, forwards them (same body and headers) and answers what
 * the webhook answered. Lets a test push its starting images without the webhook seeing them.
 */
export async function startNotificationRelay(): Promise<NotificationRelay> {
  const posts: RelayedPost[] = [];
  const waiters: Array<{ repository: string; tag: string; resolve: () => void }> = [];
  const holds: Array<{ repository: string; tag: string; until: Promise<unknown> }> = [];
  let target: URL | undefined;
  const names = (post: RelayedPost, repository: string, tag: string): boolean => {
    type Event = { action?: unknown; target?: { repository?: unknown; tag?: unknown } };
    const events = (JSON.parse(post.body) as { events?: Event[] }).events ?? [];
    return events.some(
      (event) =>
        event.action === 'push' && event.target?.repository === repository && event.target?.tag === tag,
    );
  };
  const server = createServer((request, response) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers))
        if (typeof value === 'string') headers[name] = value;
      const post = { body: Buffer.concat(chunks).toString('utf8'), headers };
      posts.push(post);
      for (const waiter of [...waiters])
        if (names(post, waiter.repository, waiter.tag)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      let status = 202;
      for (const hold of holds) if (names(post, hold.repository, hold.tag)) await hold.until;
      if (target) {
        const forwarded = await fetch(target, {
          method: 'POST',
          headers: {
            authorization: headers.authorization ?? '',
            'content-type': headers['content-type'] ?? '',
          },
          body: post.body,
        });
        status = forwarded.status;
      }
      response.writeHead(status).end();
    })().catch(() => response.writeHead(502).end());
  });
  const origin = await listenOnLoopback(server);
  return {
    url: `${origin}/webhook`,
    posts,
    forwardTo: (url) => {
      target = assertLoopbackUrl(url, 'relay target');
    },
    pushed: (repository, tag) =>
      posts.some((post) => names(post, repository, tag))
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ repository, tag, resolve })),
    holdPushesOf: (repository, tag, until) => {
      holds.push({ repository, tag, until });
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What a manifest push event names. */
export interface PushTarget {
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
}

/**
 * The envelope distribution 2.8 posts for a manifest push (see the captured fixture
 * `distribution-push-manifest.json`): what the registry sends the moment it has stored the
 * manifest, before it links the tag.
 */
export function pushNotification(registryHost: string, target: PushTarget): string {
  return JSON.stringify({
    events: [
      {
        id: randomUUID(),
        timestamp: new Date().toISOString(),
        action: 'push',
        target: {
          mediaType: target.mediaType,
          size: target.size,
          digest: target.digest,
          length: target.size,
          repository: target.repository,
          url: `http://${registryHost}/v2/${target.repository}/manifests/${target.digest}`,
          tag: target.tag,
        },
        request: {
          id: randomUUID(),
          addr: '127.0.0.1:40000',
          host: registryHost,
          method: 'PUT',
          useragent: 'containerd/v1.7.24',
        },
        actor: {},
        source: { addr: registryHost, instanceID: randomUUID() },
      },
    ],
  });
}

export const PUSH_CONTENT_TYPE = DISTRIBUTION_EVENTS_V1;
