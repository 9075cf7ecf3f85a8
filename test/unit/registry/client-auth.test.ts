import type { IncomingMessage } from 'node:http';

import { MediaType, sha256Digest } from '../../../lambda/domain';
import {
  AuthenticationError,
  ForeignHostError,
  RegistryClient,
  type Credentials,
} from '../../../lambda/registry';
import { json, registryError, startLocalServer, type LocalServer } from './local-server';

const MANIFEST = Buffer.from(
  JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, layers: [] }),
);
const MANIFEST_DIGEST = sha256Digest(MANIFEST);
const USER = { username: 'alice', password: 'c0rrect-horse-battery' };
const BASIC = `Basic ${Buffer.from(`${USER.username}:${USER.password}`).toString('base64')}`;

/** Answers a manifest HEAD/GET, a blob GET and a digest DELETE like a registry would. */
function answerRegistry(request: IncomingMessage, response: import('node:http').ServerResponse): void {
  if (request.method === 'DELETE') {
    response.writeHead(202).end();
    return;
  }
  response.writeHead(200, {
    'content-type': MediaType.OciManifest,
    'docker-content-digest': MANIFEST_DIGEST,
    'content-length': MANIFEST.length,
  });
  response.end(request.method === 'HEAD' ? undefined : MANIFEST);
}

describe('Class: RegistryClient', () => {
  const servers: LocalServer[] = [];
  let client: RegistryClient | undefined;

  afterEach(async () => {
    await client?.close();
    client = undefined;
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  async function basicRegistry(): Promise<LocalServer> {
    const server = await startLocalServer((request, response) => {
      if (request.headers.authorization !== BASIC) {
        return json(response, 401, registryError('UNAUTHORIZED', 'authentication required'), {
          'www-authenticate': 'Basic realm="basic-realm"',
        });
      }
      answerRegistry(request, response);
    });
    servers.push(server);
    return server;
  }

  /** A token service and a registry that accepts only live tokens it issued. */
  async function bearerRegistry(options: { expiresIn?: number; field?: 'token' | 'access_token' } = {}) {
    const issued = new Map<string, { expires: number; scope: string }>();
    const revoked = new Set<string>();
    const tokenService = await startLocalServer((request, response) => {
      if (request.headers.authorization !== BASIC) return json(response, 401, registryError('UNAUTHORIZED'));
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const token = `tok-${issued.size + 1}`;
      const lifetime = options.expiresIn ?? 60;
      issued.set(token, {
        expires: Date.now() + lifetime * 1000,
        scope: url.searchParams.getAll('scope').join(' '),
      });
      json(response, 200, { [options.field ?? 'token']: token, expires_in: options.expiresIn });
    });
    const registry = await startLocalServer((request, response) => {
      const token = request.headers.authorization?.replace(/^Bearer /, '') ?? '';
      const grant = issued.get(token);
      const needed = request.method === 'DELETE' ? 'delete' : 'pull';
      if (!grant || grant.expires < Date.now() || revoked.has(token) || !grant.scope.includes(needed)) {
        return json(response, 401, registryError('UNAUTHORIZED'), {
          'www-authenticate': `Bearer realm="${tokenService.url}/token",service="test-registry",scope="repository:apps/web:${needed}"`,
        });
      }
      answerRegistry(request, response);
    });
    servers.push(tokenService, registry);
    return { tokenService, registry, issued, revoked };
  }

  describe('Method: resolve (Basic)', () => {
    it('answers the Basic challenge, then sends the credentials up front', async () => {
      // Prepare
      const registry = await basicRegistry();
      client = new RegistryClient({ registry: registry.url, credentials: USER });

      // Act
      await client.resolve('apps/web', 'v1');
      await client.resolve('apps/web', 'v2');

      // Assess
      expect(registry.requests.map((request) => request.headers.authorization)).toEqual([
        undefined,
        BASIC,
        BASIC,
      ]);
      expect(client.stats['head-manifest']).toBe(3);
    });

    it('fails with AuthenticationError on a wrong password, never repeating it', async () => {
      // Prepare
      const registry = await basicRegistry();
      const wrong: Credentials = { username: 'alice', password: 'wr0ng-Pa55word' };
      client = new RegistryClient({ registry: registry.url, credentials: wrong });

      // Act
      const error = await client.resolve('apps/web', 'v1').catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(AuthenticationError);
      const everything = `${(error as Error).message} ${(error as Error).stack} ${JSON.stringify(error)}`;
      expect(everything).toContain('refused the credentials');
      expect(everything).not.toContain('wr0ng-Pa55word');
      expect(everything).not.toContain(Buffer.from('alice:wr0ng-Pa55word').toString('base64'));
    });

    it('says credentials are required when none are configured', async () => {
      // Prepare
      const registry = await basicRegistry();
      client = new RegistryClient({ registry: registry.url });

      // Act & Assess
      await expect(client.ping()).rejects.toThrow(/requires credentials and none are configured/);
    });

    it('asks a credentials provider again after a refusal (a rotated secret)', async () => {
      // Prepare
      const registry = await basicRegistry();
      const calls: Array<{ refresh: boolean } | undefined> = [];
      const provider = async (context?: { refresh: boolean }): Promise<Credentials> => {
        calls.push(context);
        return calls.length === 1 ? { username: 'alice', password: 'stale' } : USER;
      };
      client = new RegistryClient({ registry: registry.url, credentials: provider });

      // Act
      const resolved = await client.resolve('apps/web', 'v1');

      // Assess
      expect(resolved?.digest).toBe(MANIFEST_DIGEST);
      expect(calls).toEqual([{ refresh: false }, { refresh: true }]);
    });
  });

  describe('Method: resolve (Bearer)', () => {
    it('fetches one token per scope from the challenge realm and reuses it', async () => {
      // Prepare
      const { tokenService, registry } = await bearerRegistry({ field: 'access_token' });
      client = new RegistryClient({ registry: registry.url, credentials: USER });

      // Act
      for (const tag of ['a', 'b', 'c']) await client.resolve('apps/web', tag);

      // Assess
      expect(tokenService.requests).toHaveLength(1);
      const tokenUrl = new URL(tokenService.requests[0]?.url ?? '', tokenService.url);
      expect(tokenUrl.searchParams.get('service')).toBe('test-registry');
      expect(tokenUrl.searchParams.getAll('scope')).toEqual(['repository:apps/web:pull']);
      expect(tokenService.requests[0]?.headers.authorization).toBe(BASIC);
      // The registry sees the anonymous probe, then only the token: never the password.
      expect(registry.requests.map((request) => request.headers.authorization)).toEqual([
        undefined,
        'Bearer tok-1',
        'Bearer tok-1',
        'Bearer tok-1',
      ]);
      expect(client.stats.token).toBe(1);
    });

    it('asks for pull,delete to delete, and a pull request reuses that token', async () => {
      // Prepare
      const { tokenService, registry } = await bearerRegistry();
      client = new RegistryClient({ registry: registry.url, credentials: USER });

      // Act
      const result = await client.deleteManifest('apps/web', MANIFEST_DIGEST);
      await client.resolve('apps/web', 'v1');

      // Assess
      expect(result).toBe('deleted');
      expect(
        tokenService.requests.map((request) =>
          new URL(request.url, tokenService.url).searchParams.get('scope'),
        ),
      ).toEqual(['repository:apps/web:pull,delete']);
    });

    it('renews a refused token once and retries', async () => {
      // Prepare
      const { tokenService, registry, revoked } = await bearerRegistry();
      client = new RegistryClient({ registry: registry.url, credentials: USER });
      await client.resolve('apps/web', 'v1');
      revoked.add('tok-1');

      // Act
      const resolved = await client.resolve('apps/web', 'v1');

      // Assess
      expect(resolved?.digest).toBe(MANIFEST_DIGEST);
      expect(tokenService.requests).toHaveLength(2);
      expect(registry.requests.at(-1)?.headers.authorization).toBe('Bearer tok-2');
    });

    it('renews a token before expires_in runs out, without a 401', async () => {
      // Prepare
      const { tokenService, registry } = await bearerRegistry({ expiresIn: 1 });
      let now = Date.now();
      client = new RegistryClient({ registry: registry.url, credentials: USER, clock: () => now });
      await client.resolve('apps/web', 'v1');
      const before = registry.requests.length;

      // Act: the 1 s token is renewed a fifth of its lifetime early (the client's clock moves on
      // 850 ms; the registry still accepts the old token, so only the client's own renewal counts)
      now += 850;
      await client.resolve('apps/web', 'v1');

      // Assess
      expect(tokenService.requests).toHaveLength(2);
      expect(registry.requests.length - before).toBe(1);
      expect(registry.requests.at(-1)?.headers.authorization).toBe('Bearer tok-2');
    });

    it('reports a token service refusal as AuthenticationError without the password', async () => {
      // Prepare
      const { registry } = await bearerRegistry();
      client = new RegistryClient({
        registry: registry.url,
        credentials: { username: 'alice', password: 'n0pe-n0pe' },
      });

      // Act
      const error = await client.ping().catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(AuthenticationError);
      expect((error as Error).message).toMatch(
        /token service at http:\/\/127\.0\.0\.1:\d+ .* refused the credentials/,
      );
      expect(`${(error as Error).message}${JSON.stringify(error)}`).not.toContain('n0pe-n0pe');
    });
  });

  describe('Method: getBlob', () => {
    it('follows a storage redirect to another host without the Authorization header', async () => {
      // Prepare
      const blob = Buffer.from('{"created":"2026-01-01T00:00:00Z"}');
      const digest = sha256Digest(blob);
      const storage = await startLocalServer((_request, response) => {
        response.writeHead(200, { 'content-length': blob.length }).end(blob);
      });
      servers.push(storage);
      const registry = await startLocalServer((request, response) => {
        if (request.headers.authorization !== BASIC) {
          return json(response, 401, registryError('UNAUTHORIZED'), {
            'www-authenticate': 'Basic realm="r"',
          });
        }
        response.writeHead(307, { location: `${storage.url}/bucket/blob?X-Signature=abc` }).end();
      });
      servers.push(registry);
      client = new RegistryClient({ registry: registry.url, credentials: USER });

      // Act
      const bytes = await client.getBlob('apps/web', digest, 1024);

      // Assess
      expect(bytes.equals(blob)).toBe(true);
      expect(storage.requests).toHaveLength(1);
      expect(storage.requests[0]?.headers.authorization).toBeUndefined();
      expect(storage.requests[0]?.url).toBe('/bucket/blob?X-Signature=abc');
    });

    it('sends no credentials anywhere when a redirect target asks for authentication', async () => {
      // Prepare: registry → storage that answers 401 with a challenge naming a third host's realm
      const realm = await startLocalServer((_request, response) => json(response, 200, { token: 'stolen' }));
      const storage = await startLocalServer((_request, response) =>
        json(response, 401, registryError('UNAUTHORIZED'), {
          'www-authenticate': `Bearer realm="${realm.url}/token"`,
        }),
      );
      const redirecting = await startLocalServer((_request, response) =>
        response.writeHead(307, { location: `${storage.url}/blob` }).end(),
      );
      servers.push(realm, storage, redirecting);
      client = new RegistryClient({ registry: redirecting.url, credentials: USER });

      // Act
      const error = await client
        .getBlob('apps/web', sha256Digest('x'), 1024)
        .catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(ForeignHostError);
      expect(realm.requests).toHaveLength(0);
      expect(storage.requests.map((request) => request.headers.authorization)).toEqual([undefined]);
    });
  });
});
