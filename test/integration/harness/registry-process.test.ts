import { rawRequest } from '../../../tools/raw-http';
import { deleteManifestRaw, headDigestRaw, listCatalogRaw, pushImage } from '../../../tools/pusher';
import { startNotificationRelay } from '../../helpers/notification-relay';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

describe('Function: startRegistry', () => {
  let registry: RegistryProcess | undefined;

  afterEach(async () => {
    await registry?.stop();
    registry = undefined;
  });

  it('starts a registry on 127.0.0.1 that answers GET /v2/, and stops it', async () => {
    // Act
    registry = await startRegistry();
    const response = await rawRequest(`${registry.url}/v2/`);
    await registry.stop();

    // Assess
    expect(registry.url).toBe(`http://127.0.0.1:${registry.port}`);
    expect(response.status).toBe(200);
    // Another test's registry may take the freed port at once: only this instance must be gone.
    const instance = response.headers['x-regsweep-instance'];
    expect(instance).toMatch(/^[0-9a-f]{16}$/);
    const after = await rawRequest(`${registry.url}/v2/`).catch(() => undefined);
    expect(after?.headers['x-regsweep-instance']).not.toBe(instance);
  });

  it('keeps its content across restart()', async () => {
    // Prepare
    registry = await startRegistry();
    const pushed = await pushImage(registry.url, 'team/app', 'v1');

    // Act
    await registry.restart();

    // Assess
    expect(await headDigestRaw(registry.url, 'team/app', 'v1')).toBe(pushed.digest);
  });

  it('brings content back from a kept storage dir in a new registry', async () => {
    // Prepare
    const first = await startRegistry();
    const pushed = await pushImage(first.url, 'team/app', 'v1');
    await first.stop({ keepStorage: true });

    // Act
    registry = await startRegistry({ storageDir: first.storageDir });

    // Assess
    expect(await headDigestRaw(registry.url, 'team/app', 'v1')).toBe(pushed.digest);
  });

  it('answers 405 UNSUPPORTED to a DELETE when deletion is disabled', async () => {
    // Prepare
    registry = await startRegistry({ deleteEnabled: false });
    const pushed = await pushImage(registry.url, 'team/app', 'v1');

    // Act
    const status = await deleteManifestRaw(registry.url, 'team/app', pushed.digest);

    // Assess
    expect(status).toBe(405);
    expect(await headDigestRaw(registry.url, 'team/app', 'v1')).toBe(pushed.digest);
  });

  it('pages the catalog by catalogMaxEntries with a Link header', async () => {
    // Prepare
    registry = await startRegistry({ catalogMaxEntries: 2 });
    const names = ['a/one', 'b/two', 'c/three', 'd/four', 'e/five'];
    await Promise.all(names.map((name) => pushImage(registry!.url, name, 'v1')));

    // Act
    const firstPage = await rawRequest(`${registry.url}/v2/_catalog`);
    const all = await listCatalogRaw(registry.url);

    // Assess
    expect(JSON.parse(firstPage.body.toString()).repositories).toEqual(['a/one', 'b/two']);
    expect(firstPage.headers.link).toMatch(/rel="next"/);
    expect(all).toEqual(names);
  });

  it('requires the htpasswd user: 401 without credentials, 200 with them', async () => {
    // Prepare
    const user = { username: 'alice', password: 's3cret!' };
    registry = await startRegistry({ htpasswd: user });

    // Act
    const anonymous = await rawRequest(`${registry.url}/v2/`);
    const wrong = await rawRequest(`${registry.url}/v2/`, { auth: { ...user, password: 'nope' } });
    const right = await rawRequest(`${registry.url}/v2/`, { auth: user });
    const pushed = await pushImage(registry.url, 'team/app', 'v1', { auth: user });

    // Assess
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic realm=/);
    expect(wrong.status).toBe(401);
    expect(right.status).toBe(200);
    expect(await headDigestRaw(registry.url, 'team/app', 'v1', user)).toBe(pushed.digest);
  });

  it('posts push notifications with the configured headers to a loopback endpoint', async () => {
    // Prepare
    const relay = await startNotificationRelay();
    registry = await startRegistry({
      notifications: [{ url: relay.url, headers: { Authorization: ['Bearer hook-token'] } }],
    });

    try {
      // Act: the relay resolves once a post names the push (no poll: jest's timeout is the bound).
      const pushed = await pushImage(registry.url, 'team/app', 'v1');
      await relay.pushed('team/app', 'v1');

      // Assess
      const events = relay.posts.flatMap(
        ({ body }) => JSON.parse(body).events as Array<{ action: string; target: { tag?: string } }>,
      );
      expect(events.find((event) => event.action === 'push' && event.target.tag === 'v1')).toMatchObject({
        target: { digest: pushed.digest, repository: 'team/app' },
      });
      expect(relay.posts[0]?.headers).toMatchObject({
        authorization: 'Bearer hook-token',
        'content-type': 'application/vnd.docker.distribution.events.v1+json',
      });
    } finally {
      await relay.stop();
    }
  });

  it('refuses a notification endpoint that is not on 127.0.0.1', async () => {
    // Act & Assess
    await expect(startRegistry({ notifications: [{ url: 'http://192.0.2.1/hook' }] })).rejects.toThrow(
      /not an http URL on 127.0.0.1/,
    );
  });

  it('fails with the logs when the registry cannot start', async () => {
    // Prepare: a second registry on the port of a running one cannot bind it.
    registry = await startRegistry();

    // Act & Assess
    await expect(startRegistry({ port: registry.port })).rejects.toThrow(
      /did not start[\s\S]*address already in use/,
    );
  });

  it('runs garbage-collect and frees the blobs of a deleted manifest', async () => {
    // Prepare
    registry = await startRegistry();
    const pushed = await pushImage(registry.url, 'team/app', 'v1', { layerBytes: 1234 });
    expect(await deleteManifestRaw(registry.url, 'team/app', pushed.digest)).toBe(202);

    // Act
    const output = await registry.garbageCollect();

    // Assess
    expect(output).toMatch(/blob eligible for deletion/);
    expect(await headDigestRaw(registry.url, 'team/app', 'v1')).toBeUndefined();
  });
});
