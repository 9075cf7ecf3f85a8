import {
  AuthenticationError,
  RegistryClient,
  UntagNotPermittedError,
  type RequestKind,
} from '../../../lambda/registry';
import { listTagsRaw, pushImage, type RawAuth } from '../../../tools/pusher';
import { rawRequest } from '../../../tools/raw-http';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';
import { startTokenIssuer, type TokenIssuer } from '../../helpers/token-issuer';

const USER = { username: 'sweeper', password: 'Sw33p-th3-r3g1stry' };

function cost(client: RegistryClient): Partial<Record<RequestKind | 'retries', number>> {
  return Object.fromEntries(Object.entries(client.stats).filter(([, count]) => count > 0));
}

describe('Class: RegistryClient (distribution 2.8, htpasswd)', () => {
  let registry: RegistryProcess;

  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: USER });
  });

  afterAll(async () => {
    await registry?.stop();
  });

  describe('Method: ping', () => {
    it('accepts the right password and refuses a wrong one without repeating it', async () => {
      // Prepare
      const good = new RegistryClient({ registry: registry.url, credentials: USER });
      const bad = new RegistryClient({
        registry: registry.url,
        credentials: { ...USER, password: 'Wr0ng-Pa55' },
      });

      // Act
      await good.ping();
      const error = await bad.ping().catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(AuthenticationError);
      expect((error as Error).message).toBe(
        `the registry at ${registry.url} refused the credentials (HTTP 401)`,
      );
      expect(JSON.stringify({ ...(error as object), message: (error as Error).message })).not.toContain(
        'Wr0ng',
      );
      await good.close();
      await bad.close();
    });
  });

  describe('Method: untag', () => {
    it('resolves, deletes and untags with Basic credentials', async () => {
      // Prepare
      const auth = USER;
      const repository = 'basic/app';
      const kept = await pushImage(registry.url, repository, 'keep', { seed: 's', auth });
      await pushImage(registry.url, repository, 'drop', { seed: 's', auth });
      const gone = await pushImage(registry.url, repository, 'gone', { seed: 'g', auth });
      const client = new RegistryClient({ registry: registry.url, credentials: USER });

      // Act
      const resolved = await client.resolve(repository, 'keep');
      const method = await client.untag(repository, 'drop');
      const deleted = await client.deleteManifest(repository, gone.digest);

      // Assess
      expect(resolved?.digest).toBe(kept.digest);
      expect(method).toBe('placeholder');
      expect(deleted).toBe('deleted');
      expect(await listTagsRaw(registry.url, repository, auth)).toEqual(['keep']);
      await client.close();
    });
  });
});

describe('Class: RegistryClient (distribution 2.8, token auth)', () => {
  let issuer: TokenIssuer;
  let registry: RegistryProcess;

  /** A token for the harness pusher (which speaks no token protocol itself). */
  async function pushToken(repository: string): Promise<RawAuth> {
    const url = new URL(issuer.realm);
    url.searchParams.set('service', issuer.service);
    url.searchParams.set('scope', `repository:${repository}:pull,push`);
    const response = await rawRequest(url, { auth: USER });
    return { bearer: (JSON.parse(response.body.toString()) as { token: string }).token };
  }

  beforeAll(async () => {
    issuer = await startTokenIssuer({ users: { [USER.username]: USER.password, reader: 'read-only-pw' } });
    issuer.configure({
      // `reader` may only pull: the token server grants the subset, like real ones do.
      grants: (username, _name, actions) =>
        username === 'reader' ? actions.filter((a) => a === 'pull') : actions,
    });
    registry = await startRegistry({ token: issuer });
  });

  afterAll(async () => {
    await registry?.stop();
    await issuer?.stop();
  });

  describe('Method: resolve / deleteManifest / untag', () => {
    it('works with one token per scope, not one per request', async () => {
      // Prepare
      const repository = 'bearer/app';
      const auth = await pushToken(repository);
      const kept = await pushImage(registry.url, repository, 'keep', { seed: 's', auth });
      await pushImage(registry.url, repository, 'drop', { seed: 's', auth });
      const gone = await pushImage(registry.url, repository, 'gone', { seed: 'g', auth });
      const client = new RegistryClient({ registry: registry.url, credentials: USER });
      const before = issuer.requests;

      // Act
      for (const tag of ['keep', 'drop', 'gone', 'keep', 'drop']) await client.resolve(repository, tag);
      const afterResolves = issuer.requests - before;
      await client.deleteManifest(repository, gone.digest);
      await client.deleteManifest(repository, gone.digest);
      const afterDeletes = issuer.requests - before;
      const method = await client.untag(repository, 'drop');

      // Assess: pull; pull,delete; pull,push,delete
      expect(afterResolves).toBe(1);
      expect(afterDeletes).toBe(2);
      expect(issuer.requests - before).toBe(3);
      expect(method).toBe('placeholder');
      expect(await listTagsRaw(registry.url, repository, await pushToken(repository))).toEqual(['keep']);
      expect(await client.resolve(repository, 'keep')).toMatchObject({ digest: kept.digest });
      expect(client.stats.token).toBe(3);
      await client.close();
    });

    it('costs 3 requests for the first resolution and 1 with the token cached', async () => {
      // Prepare
      const repository = 'bearer/cost';
      const auth = await pushToken(repository);
      await pushImage(registry.url, repository, 'a', { seed: 'cost-a', auth });
      await pushImage(registry.url, repository, 'b', { seed: 'cost-a', auth });
      const client = new RegistryClient({ registry: registry.url, credentials: USER });

      // Act
      await client.resolve(repository, 'a');
      const first = cost(client);
      await client.resolve(repository, 'a');
      const second = cost(client);
      await client.untag(repository, 'b');
      const untag = cost(client);

      // Assess: 401 probe + token + HEAD; then HEAD alone; untag adds one token (push,delete)
      expect(first).toEqual({ 'head-manifest': 2, token: 1 });
      expect(second).toEqual({ 'head-manifest': 3, token: 1 });
      expect(untag).toEqual({
        'head-manifest': 3,
        token: 2,
        'delete-manifest': 2,
        'head-blob': 1,
        'upload-blob': 2,
        'put-manifest': 1,
      });
      await client.close();
    });

    it('renews a short-lived token when expires_in runs out', async () => {
      // Prepare: the JWT itself stays valid; only expires_in is short, so a renewal is our doing
      issuer.configure({ expiresInSeconds: 1, tokenLifetimeSeconds: 300 });
      await pushImage(registry.url, 'bearer/short', 'v1', { auth: await pushToken('bearer/short') });
      let now = Date.now();
      const client = new RegistryClient({ registry: registry.url, credentials: USER, clock: () => now });
      await client.resolve('bearer/short', 'v1');
      const before = issuer.requests;

      // Act: the client's clock stands still, then moves past the renewal point (800 ms of 1 s)
      await client.resolve('bearer/short', 'v1');
      const whileValid = issuer.requests - before;
      now += 900;
      await client.resolve('bearer/short', 'v1');

      // Assess
      expect(whileValid).toBe(0);
      expect(issuer.requests - before).toBe(1);
      expect(client.stats['head-manifest']).toBe(4);
      issuer.configure({ expiresInSeconds: 300, tokenLifetimeSeconds: 300 });
      await client.close();
    });

    it('refuses a wrong password at the token service, and an untag without push rights', async () => {
      // Prepare
      const auth = await pushToken('bearer/guarded');
      await pushImage(registry.url, 'bearer/guarded', 'keep', { seed: 'x', auth });
      await pushImage(registry.url, 'bearer/guarded', 'drop', { seed: 'x', auth });
      const wrong = new RegistryClient({
        registry: registry.url,
        credentials: { ...USER, password: 'n0t-it' },
      });
      const reader = new RegistryClient({
        registry: registry.url,
        credentials: { username: 'reader', password: 'read-only-pw' },
      });

      // Act
      const authError = await wrong.resolve('bearer/guarded', 'keep').catch((caught: unknown) => caught);
      const resolved = await reader.resolve('bearer/guarded', 'keep');
      const untagError = await reader.untag('bearer/guarded', 'drop').catch((caught: unknown) => caught);

      // Assess
      expect(authError).toBeInstanceOf(AuthenticationError);
      expect((authError as Error).message).toMatch(
        /token service at .* refused the credentials \(HTTP 401\)/,
      );
      expect((authError as Error).message).not.toContain('n0t-it');
      expect(resolved).not.toBeNull();
      expect(untagError).toBeInstanceOf(UntagNotPermittedError);
      expect((untagError as Error).message).toMatch(
        /^cannot untag bearer\/guarded:drop: the registry refused the tag delete \(HTTP 401/,
      );
      expect(await listTagsRaw(registry.url, 'bearer/guarded', auth)).toEqual(['drop', 'keep']);
      await wrong.close();
      await reader.close();
    });
  });
});
