import { get } from 'node:http';

import { startFaultProxy, type Fault, type FaultProxy } from '../../helpers/fault-proxy';
import { deleteManifestRaw, headDigestRaw, listCatalogRaw, pushImage } from '../../../tools/pusher';
import { rawRequest } from '../../../tools/raw-http';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

/** What a plain node:http client saw of one response. */
interface SeenResponse {
  status?: number;
  declared?: number;
  received: number;
  aborted: boolean;
}

describe('Function: startFaultProxy', () => {
  let registry: RegistryProcess;
  let proxy: FaultProxy;

  beforeAll(async () => {
    registry = await startRegistry({ catalogMaxEntries: 2 });
    await Promise.all(['a/one', 'b/two', 'c/three'].map((name) => pushImage(registry.url, name, 'v1')));
  });

  beforeEach(async () => {
    proxy = await startFaultProxy(registry.url);
  });

  afterEach(async () => {
    await proxy.stop();
  });

  afterAll(async () => {
    await registry.stop();
  });

  /** The status of a GET /v2/ through the proxy, or the name of the error it failed with. */
  const probe = async (method = 'GET'): Promise<number | string> => {
    try {
      return (await rawRequest(`${proxy.url}/v2/`, { method })).status;
    } catch (error) {
      return (error as Error).name;
    }
  };

  it('forwards pushes, rewriting upload Locations and catalog Links to itself', async () => {
    // Act
    const pushed = await pushImage(proxy.url, 'via/proxy', 'v1', { kind: 'oci-index' });
    const firstPage = await rawRequest(`${proxy.url}/v2/_catalog`);
    const catalog = await listCatalogRaw(proxy.url);

    // Assess
    expect(await headDigestRaw(registry.url, 'via/proxy', 'v1')).toBe(pushed.digest);
    expect(await headDigestRaw(proxy.url, 'via/proxy', 'v1')).toBe(pushed.digest);
    expect(firstPage.headers.link).toContain('rel="next"');
    expect(firstPage.headers.link).not.toContain(registry.url);
    expect(catalog).toEqual(['a/one', 'b/two', 'c/three', 'via/proxy']);
    expect(proxy.history.some(({ method }) => method === 'PUT')).toBe(true);
    expect(proxy.counts.ok).toBe(proxy.requests);
  });

  it('injects exactly the scripted faults, in order, then forwards', async () => {
    // Prepare
    proxy.setPlan({ script: ['503', '429', 'reset', 'truncate', 'ok'], retryAfterSeconds: 7 });

    // Act
    const unavailable = await rawRequest(`${proxy.url}/v2/`);
    const limited = await rawRequest(`${proxy.url}/v2/`);
    const reset = await probe();
    const truncated = await probe();
    const rest = [await probe(), await probe()];

    // Assess
    expect(unavailable.status).toBe(503);
    expect(JSON.parse(unavailable.body.toString()).errors[0].code).toBe('UNAVAILABLE');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('7');
    expect(JSON.parse(limited.body.toString()).errors[0].code).toBe('TOOMANYREQUESTS');
    expect(reset).toBe('SocketError');
    expect(truncated).toBe('SocketError');
    expect(rest).toEqual([200, 200]);
    expect(proxy.counts).toEqual({ ok: 2, '503': 1, '429': 1, reset: 1, truncate: 1 });
    expect(proxy.history.map(({ fault }) => fault)).toEqual(['503', '429', 'reset', 'truncate', 'ok', 'ok']);
  });

  it('sends the full Content-Length but only part of the body when truncating', async () => {
    // Prepare
    proxy.setPlan({ script: ['truncate'] });

    // Act
    const seen = await new Promise<SeenResponse>((resolve) => {
      const result: SeenResponse = { received: 0, aborted: false };
      const call = get(`${proxy.url}/v2/a/one/tags/list`, (response) => {
        result.status = response.statusCode;
        result.declared = Number(response.headers['content-length']);
        response.on('data', (chunk: Buffer) => (result.received += chunk.length));
        response.on('aborted', () => (result.aborted = true));
        response.on('close', () => resolve(result));
      });
      call.on('error', () => resolve(result));
    });

    // Assess
    expect(seen.status).toBe(200);
    expect(seen.declared).toBeGreaterThan(seen.received);
    expect(seen.received).toBeGreaterThan(0);
    expect(seen.aborted).toBe(true);
  });

  it('cuts the header block of a truncated HEAD, which has no body to cut', async () => {
    // Prepare
    proxy.setPlan({ script: ['truncate'] });

    // Act
    const truncated = await probe('HEAD');

    // Assess
    expect(truncated).not.toBe(200);
    expect(await probe('HEAD')).toBe(200);
  });

  it('draws the same faults from the same seed, and others from another seed', async () => {
    // Prepare
    const run = async (seed: number): Promise<Fault[]> => {
      proxy.setPlan({ seed, rate503: 0.3, rate429: 0.2 });
      const before = proxy.history.length;
      for (let index = 0; index < 30; index += 1) await probe();
      return proxy.history.slice(before).map(({ fault }) => fault);
    };

    // Act
    const first = await run(42);
    const again = await run(42);
    const other = await run(7);

    // Assess
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    expect(new Set(first)).toEqual(new Set(['ok', '503', '429']));
  });

  it('resets after the target handled the request, so a DELETE happens unheard', async () => {
    // Prepare
    const pushed = await pushImage(registry.url, 'reset/after', 'v1');
    proxy.setPlan({ script: ['reset'] });

    // Act
    const attempt = deleteManifestRaw(proxy.url, 'reset/after', pushed.digest);

    // Assess
    await expect(attempt).rejects.toThrow();
    expect(await headDigestRaw(registry.url, 'reset/after', 'v1')).toBeUndefined();
    expect(await deleteManifestRaw(proxy.url, 'reset/after', pushed.digest)).toBe(404);
  });

  it('resets before forwarding when asked, so the DELETE never happens', async () => {
    // Prepare
    const pushed = await pushImage(registry.url, 'reset/before', 'v1');
    proxy.setPlan({ script: ['reset'], resetBeforeForward: true });

    // Act
    const attempt = deleteManifestRaw(proxy.url, 'reset/before', pushed.digest);

    // Assess
    await expect(attempt).rejects.toThrow();
    expect(await headDigestRaw(registry.url, 'reset/before', 'v1')).toBe(pushed.digest);
  });

  it('faults only the requests that match, and delays by latencyMs', async () => {
    // Prepare
    const pushed = await pushImage(registry.url, 'match/app', 'v1');
    proxy.setPlan({ script: ['503'], match: ({ method }) => method === 'DELETE', latencyMs: 150 });

    // Act
    const startedAt = Date.now();
    const digest = await headDigestRaw(proxy.url, 'match/app', 'v1');
    const elapsedMs = Date.now() - startedAt;
    const firstDelete = await deleteManifestRaw(proxy.url, 'match/app', pushed.digest);
    const secondDelete = await deleteManifestRaw(proxy.url, 'match/app', pushed.digest);

    // Assess
    expect(digest).toBe(pushed.digest);
    expect(elapsedMs).toBeGreaterThanOrEqual(150);
    expect([firstDelete, secondDelete]).toEqual([503, 202]);
  });

  it('refuses a target that is not on 127.0.0.1', async () => {
    // Act & Assess
    await expect(startFaultProxy('http://192.0.2.1:5000')).rejects.toThrow(/not an http URL on 127.0.0.1/);
  });
});
