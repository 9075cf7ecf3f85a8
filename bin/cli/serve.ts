import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { countResults } from '../../lambda/domain';
import { acceptWebhook, MAX_WEBHOOK_BODY_BYTES } from '../../lambda/events';
import { sweepRun } from '../../lambda/engine';
import { policyCoversRepository, type Policy } from '../../lambda/policy';
import type { RegistryClient } from '../../lambda/registry';
import { CleanupScheduler } from './cleanup-scheduler';

/** How many recent event ids are remembered to drop the registry's redeliveries. */
const SEEN_EVENT_IDS_MAX = 10_000;

export interface WebhookServerOptions {
  readonly client: RegistryClient;
  readonly policy: Policy;
  readonly webhookToken: string;
  readonly dryRun?: boolean;
  /** One line per event worth a human's attention (stderr in the CLI). */
  readonly log: (line: string) => void;
}

export interface WebhookServer {
  readonly server: Server;
  readonly scheduler: CleanupScheduler;
  /** `http://host:port` once listening. */
  url(): string;
  /** Stops accepting, lets running cleanups finish, closes. */
  close(): Promise<void>;
}

/**
 * `regsweep serve`: the registry's notification endpoint without AWS. `POST /webhook` runs the same
 * gate and parsing as the Lambda webhook and cleans each pushed repository (one run at a time per
 * repository, bursts coalesced); `GET /healthz` reports liveness and load.
 */
export function createWebhookServer(options: WebhookServerOptions): WebhookServer {
  const seen = new Set<string>();
  const scheduler = new CleanupScheduler(async (repository) => {
    const started = Date.now();
    try {
      const plan = await sweepRun({
        client: options.client,
        policy: options.policy,
        repositories: [repository],
        dryRun: options.dryRun ?? false,
      });
      const counts = countResults(plan);
      for (const failed of plan.repositories)
        if (failed.error !== undefined) options.log(`${failed.name}: cleanup failed: ${failed.error}`);
      options.log(
        `${repository}: ${counts.deleted} deleted, ${counts.untagged} untagged, ` +
          `${counts.kept} kept, ${counts.skippedChanged} skipped, ` +
          `${counts.failed} failed${options.dryRun ? ' (dry run)' : ''} in ${Date.now() - started} ms`,
      );
    } catch (error) {
      options.log(`${repository}: cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/healthz' && (request.method === 'GET' || request.method === 'HEAD')) {
      return send(response, 200, { status: 'ok', ...scheduler.load });
    }
    if (path !== '/webhook')
      return send(response, 404, { message: 'not found: POST /webhook or GET /healthz' });

    // At most one byte past the limit is read: enough for the gate to answer 413.
    const body = await readBody(request, MAX_WEBHOOK_BODY_BYTES + 1);
    if (!body.complete) closeAfterReply(request, response);
    const decision = acceptWebhook(
      { method: request.method, headers: flattenHeaders(request), body: body.text },
      { webhookToken: options.webhookToken },
    );
    if (decision.statusCode !== 202)
      return send(response, decision.statusCode, { message: decision.message });

    let queued = 0;
    for (const entry of decision.repositories) {
      const fresh = entry.eventIds.length === 0 || entry.eventIds.some((id) => !seen.has(id));
      for (const id of entry.eventIds) remember(seen, id);
      if (fresh && policyCoversRepository(options.policy, entry.repository)) {
        scheduler.request(entry.repository);
        queued += 1;
      }
    }
    send(response, 202, { message: decision.message, queued });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => send(response, 400, { message: 'bad request' }));
  });
  return {
    server,
    scheduler,
    url: () => {
      const address = server.address() as AddressInfo;
      return `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;
    },
    close: async () => {
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
