import type { ServerResponse } from 'node:http';

import { sha256Digest } from '../../../lambda/domain';
import {
  ForeignHostError,
  MAX_LIST_PAGE_BYTES,
  MAX_MANIFEST_BYTES,
  RegistryClient,
  RegistryError,
  ResponseTooLargeError,
} from '../../../lambda/registry';
import { startCanary, type Canary, type CanaryHit } from '../../helpers/canary';
import { recordMeasurement } from '../../helpers/run-report';

const CREDENTIALS = { username: 'hostile-test-user', password: 'hostile-test-password-5f1c' };
const BASIC = `Basic ${Buffer.from(`${CREDENTIALS.username}:${CREDENTIALS.password}`).toString('base64')}`;
const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';

function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const bytes = Buffer.from(JSON.stringify(body));
  response
    .writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length, ...headers })
    .end(bytes);
}

/**
 * A registry that wants Basic credentials and answers each route with `route` (after the
 * credentials check), so every request the client sends is authenticated.
 */
function basicRegistry(route: (hit: CanaryHit, response: ServerResponse) => void) {
  return startCanary((hit, response) => {
    if (hit.headers.authorization !== BASIC) {
      return json(
        response,
        401,
        { errors: [{ code: 'UNAUTHORIZED' }] },
        { 'www-authenticate': 'Basic realm="r"' },
      );
    }
    route(hit, response);
  });
}

/** Writes an endless body in 64 KiB chunks until the client goes away; counts what it wrote. */
function endless(
  response: ServerResponse,
  head: Record<string, string>,
  chunk: Buffer,
  counter: { bytes: number },
) {
  response.writeHead(200, head);
  const pump = (): void => {
    while (!response.destroyed && counter.bytes < 8 * 1024 ** 3) {
      counter.bytes += chunk.length;
      if (!response.write(chunk)) return void response.once('drain', pump);
    }
  };
  response.on('close', () => undefined);
  pump();
}

describe('Class: RegistryClient against a hostile registry', () => {
  let elsewhere: Canary;
  const servers: Canary[] = [];
  const clients: RegistryClient[] = [];

  beforeAll(async () => {
    elsewhere = await startCanary();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
    for (const server of servers.splice(0)) await server.stop();
  });

  afterAll(async () => {
    await elsewhere.stop();
  });

  async function clientOf(
    route: (hit: CanaryHit, response: ServerResponse) => void,
  ): Promise<RegistryClient> {
    const registry = await basicRegistry(route);
    servers.push(registry);
    const client = new RegistryClient({
      registry: registry.url,
      credentials: CREDENTIALS,
      retry: { maxRetries: 1, minDelayMs: 1, maxDelayMs: 5 },
    });
    clients.push(client);
    return client;
  }

  describe('another host in Link or Location', () => {
    it.each([
      [
        'an absolute next link',
        (canary: string) => `<${canary}/v2/apps/web/tags/list?n=1&last=a>; rel="next"`,
      ],
      [
        'a scheme-relative next link',
        (canary: string) => `<//${new URL(canary).host}/v2/apps/web/tags/list?last=a>; rel="next"`,
      ],
      [
        'a next link hiding the host behind user info',
        (canary: string) =>
          `<http://127.0.0.1@${new URL(canary).host}/v2/apps/web/tags/list?last=a>; rel=next`,
      ],
    ])('refuses %s, and the other host hears nothing', async (_name, link) => {
      const client = await clientOf((_hit, response) =>
        json(response, 200, { name: 'apps/web', tags: ['a'] }, { link: link(elsewhere.url) }),
      );

      const listed: string[] = [];
      const error = await (async () => {
        for await (const tag of client.tags('apps/web')) listed.push(tag);
      })().catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(ForeignHostError);
      expect(listed).toEqual(['a']);
      expect(elsewhere.hits).toEqual([]);
    });

    it.each<[string, (client: RegistryClient) => Promise<unknown>]>([
      ['a manifest GET', (client) => client.getManifest('apps/web', 'latest')],
      ['a manifest HEAD', (client) => client.resolve('apps/web', 'latest')],
      ['a tag list', (client) => client.tags('apps/web').next()],
      ['the catalog', (client) => client.catalog().next()],
      ['the API check', (client) => client.ping()],
    ])('refuses a redirect of %s to another host, and the other host hears nothing', async (_name, call) => {
      const client = await clientOf((hit, response) =>
        response.writeHead(307, { location: `${elsewhere.url}${hit.path}` }).end(),
      );

      const error = await call(client).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(ForeignHostError);
      expect(elsewhere.hits).toEqual([]);
    });

    it('follows a blob redirect to storage on another host without the Authorization header', async () => {
      const blob = Buffer.from('{"created":"2026-01-01T00:00:00Z"}');
      const storage = await startCanary((_hit, response) =>
        response.writeHead(200, { 'content-length': blob.length }).end(blob),
      );
      servers.push(storage);
      const client = await clientOf((_hit, response) =>
        response.writeHead(307, { location: `${storage.url}/bucket/object?X-Signature=abc` }).end(),
      );

      const bytes = await client.getBlob('apps/web', sha256Digest(blob), 1024);

      expect(bytes.equals(blob)).toBe(true);
      expect(storage.hits.map((hit) => hit.headers.authorization)).toEqual([undefined]);
    });

    it('never sends Authorization to another host, whatever the registry answers', async () => {
      // Every answer points elsewhere: Link, Location on reads and writes, an upload location.
      const client = await clientOf((hit, response) => {
        if (hit.method === 'POST')
          return response.writeHead(202, { location: `${elsewhere.url}/upload` }).end();
        if (hit.path.includes('/tags/list'))
          return json(response, 200, { tags: ['a'] }, { link: `<${elsewhere.url}/x>; rel="next"` });
        response
          .writeHead(hit.method === 'DELETE' ? 400 : 302, { location: `${elsewhere.url}${hit.path}` })
          .end();
      });

      for (const call of [
        () => client.getManifest('apps/web', 'latest'),
        () => client.resolve('apps/web', 'latest'),
        () =>
          client
            .tags('apps/web')
            .next()
            .then(() => client.tags('apps/web').next()),
        async () => {
          for await (const tag of client.tags('apps/web')) void tag;
        },
        () => client.untag('apps/web', 'latest'),
        () => client.deleteManifest('apps/web', sha256Digest('x')),
      ])
        await call().catch(() => undefined);

      expect(elsewhere.hits).toEqual([]);
    });
  });

  describe('oversized answers', () => {
    it('refuses a manifest that declares gigabytes before reading it', async () => {
      const sent = { bytes: 0 };
      const client = await clientOf((_hit, response) =>
        endless(
          response,
          { 'content-type': MANIFEST_TYPE, 'content-length': String(5 * 1024 ** 3) },
          Buffer.alloc(64 * 1024, 0x20),
          sent,
        ),
      );

      const error = await client.getManifest('apps/web', 'latest').catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(ResponseTooLargeError);
      expect((error as ResponseTooLargeError).limitBytes).toBe(MAX_MANIFEST_BYTES);
    });

    it.each<[string, Record<string, string>, (client: RegistryClient) => Promise<unknown>, number]>([
      [
        'an endless manifest',
        { 'content-type': MANIFEST_TYPE },
        (client) => client.getManifest('apps/web', 'latest'),
        MAX_MANIFEST_BYTES,
      ],
      [
        'an endless tag list page',
        { 'content-type': 'application/json' },
        (client) => client.tags('apps/web').next(),
        MAX_LIST_PAGE_BYTES,
      ],
    ])('stops reading %s at its cap, without buffering it', async (_name, head, call, limit) => {
      const sent = { bytes: 0 };
      const chunk = Buffer.from(`"${'t'.repeat(64 * 1024 - 3)}",`);
      const client = await clientOf((_hit, response) => endless(response, head, chunk, sent));
      const heapBefore = process.memoryUsage().heapUsed;

      const error = await call(client).catch((caught: unknown) => caught);
      const heapGrowth = process.memoryUsage().heapUsed - heapBefore;

      expect(error).toBeInstanceOf(ResponseTooLargeError);
      expect((error as ResponseTooLargeError).limitBytes).toBe(limit);
      // The server could push only what fits in the socket buffers past the cap.
      expect(sent.bytes).toBeLessThan(limit + 32 * 1024 * 1024);
      expect(heapGrowth).toBeLessThan(limit + 64 * 1024 * 1024);
      recordMeasurement('oversized', { case: _name, limit, sentBytes: sent.bytes, heapGrowth });
    });

    it('stops following a tag list that pages forever', async () => {
      // Every page has a thousand new tags and a link to the next one.
      let pages = 0;
      const client = await clientOf((hit, response) => {
        pages += 1;
        const page = Number(new URL(hit.path, 'http://x').searchParams.get('last') ?? 0);
        const tags = Array.from({ length: 1000 }, (_, index) => `t${page}-${index}`);
        json(
          response,
          200,
          { name: 'apps/web', tags },
          { link: `</v2/apps/web/tags/list?n=1000&last=${page + 1}>; rel="next"` },
        );
      });

      let listed = 0;
      const started = Date.now();
      const error = await (async () => {
        for await (const tag of client.tags('apps/web')) if (tag) listed += 1;
      })().catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(RegistryError);
      expect((error as Error).message).toMatch(/more than [\d,]+ (tags|entries)/);
      recordMeasurement('endless-pages', { pages, listed, ms: Date.now() - started });
    });
  });
});
