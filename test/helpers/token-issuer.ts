import { execFile } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, timingSafeEqual, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';

import { makeTempDir, removeTempDir } from '../../tools/exit-cleanup';
import { listenOnLoopback, LOOPBACK_HOST } from '../../tools/ports';

/** How long issued tokens say they live (`expires_in`) and really live (JWT `exp`). @default */
export const DEFAULT_TOKEN_EXPIRES_IN_SECONDS = 300;
const OPENSSL_TIMEOUT_MS = 30_000;

/** Decides which of the requested actions a user gets on one resource (e.g. a repository). */
export type GrantFunction = (
  username: string,
  name: string,
  requestedActions: readonly string[],
  type: string,
) => readonly string[];

/** Settings that can change while the issuer runs (see `configure`). */
export interface TokenIssuerSettings {
  /** `expires_in` in answers. @default 300 */
  expiresInSeconds?: number;
  /** Leave `expires_in` out of answers (clients must then assume 60 s). @default false */
  omitExpiresIn?: boolean;
  /**
   * The JWT's real lifetime (`exp - iat`); negative makes tokens the registry rejects at once
   * (it allows 60 s of clock skew, so use -120 or less). @default expiresInSeconds
   */
  tokenLifetimeSeconds?: number;
  /** @default every requested action */
  grants?: GrantFunction;
}

export interface TokenIssuerOptions extends TokenIssuerSettings {
  /** username → password, checked as HTTP Basic. */
  users: Record<string, string>;
  /** @default 'regsweep-test-registry' */
  service?: string;
}

/** A running token server: pass it as `startRegistry({ token: issuer })`. */
export interface TokenIssuer {
  /** `http://127.0.0.1:<port>/token` */
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** Path of the PEM certificate the registry trusts. */
  readonly rootCertBundle: string;
  /** Token requests served so far (any answer). */
  readonly requests: number;
  /** The `scope` parameters of the last request, as sent. */
  readonly lastScopes: string[];
  /** Changes expiry, lifetime or grants for the tokens issued from now on. */
  configure(settings: TokenIssuerSettings): void;
  stop(): Promise<void>;
}

/** One `access` entry of a Docker registry token. */
interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

/** Starts a Docker token server (`auth: token`) on a free 127.0.0.1 port. */
export async function startTokenIssuer(options: TokenIssuerOptions): Promise<TokenIssuer> {
  const dir = makeTempDir('regsweep-token-issuer-');
  try {
    const { privateKey, certificateDer, certPath } = await makeSigningCertificate(dir);
    const service = options.service ?? 'regsweep-test-registry';
    const issuer = 'regsweep-test-issuer';
    let settings: TokenIssuerSettings = { ...options };
    let requests = 0;
    let lastScopes: string[] = [];

    const server = createServer((request, response) => {
      requests += 1;
      const url = new URL(request.url ?? '/', `http://${LOOPBACK_HOST}`);
      lastScopes = url.searchParams.getAll('scope');
      if (request.method !== 'GET' || url.pathname !== '/token') {
        return answer(response, 404, { errors: [{ code: 'NOT_FOUND', message: 'only GET /token' }] });
      }
      const requestedService = url.searchParams.get('service');
      if (requestedService !== null && requestedService !== service) {
        return answer(response, 400, { errors: [{ code: 'INVALID_SERVICE', message: 'unknown service' }] });
      }
      const credentials = basicCredentials(request);
      if (credentials === 'malformed' || (credentials && !passwordMatches(options.users, credentials))) {
        response.setHeader('www-authenticate', 'Basic realm="regsweep-test-token"');
        return answer(response, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] });
      }
      // Anonymous callers get a token with no access, as real token servers do.
      const access = credentials ? grantAccess(credentials.username, lastScopes, settings.grants) : [];
      const expiresIn = settings.expiresInSeconds ?? DEFAULT_TOKEN_EXPIRES_IN_SECONDS;
      const lifetime = settings.tokenLifetimeSeconds ?? expiresIn;
      const now = Math.floor(Date.now() / 1000);
      const token = signJwt(privateKey, certificateDer, {
        iss: issuer,
        sub: credentials ? credentials.username : '',
        aud: service,
        exp: now + lifetime,
        nbf: now - 1,
        iat: now,
        jti: randomBytes(12).toString('hex'),
        access,
      });
      return answer(response, 200, {
        token,
        access_token: token,
        ...(!settings.omitExpiresIn && { expires_in: expiresIn }),
        issued_at: new Date(now * 1000).toISOString(),
      });
    });
    const origin = await listenOnLoopback(server);
    server.unref();

    return {
      realm: `${origin}/token`,
      service,
      issuer,
      rootCertBundle: certPath,
      get requests() {
        return requests;
      },
      get lastScopes() {
        return lastScopes;
      },
      configure: (changes) => {
        settings = { ...settings, ...changes };
      },
      stop: async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await removeTempDir(dir);
      },
    };
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
}

/**
 * A fresh RSA key and a self-signed certificate for it (valid one day). distribution verifies
 * the `x5c` certificate of each token against the PEM bundle, so the cert needs openssl.
 */
async function makeSigningCertificate(
  dir: string,
): Promise<{ privateKey: KeyObject; certificateDer: string; certPath: string }> {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=regsweep-test', '-days', '1'];
  await new Promise<void>((resolve, reject) => {
    execFile(
      'openssl',
      [...args, '-keyout', keyPath, '-out', certPath],
      { timeout: OPENSSL_TIMEOUT_MS },
      (error, _stdout, stderr) =>
        error
          ? reject(new Error(`openssl could not make the token certificate: ${stderr}`, { cause: error }))
          : resolve(),
    );
  });
  const privateKey = createPrivateKey(await readFile(keyPath));
  const pem = await readFile(certPath, 'utf8');
  // The body of a PEM certificate is the standard-base64 DER that x5c carries.
  const certificateDer = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return { privateKey, certificateDer, certPath };
}

function signJwt(privateKey: KeyObject, certificateDer: string, claims: Record<string, unknown>): string {
  const header = { typ: 'JWT', alg: 'RS256', x5c: [certificateDer] };
  const signingInput = `${base64Url(JSON.stringify(header))}.${base64Url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(signingInput), privateKey);
  return `${signingInput}.${base64Url(signature)}`;
}

function base64Url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** `scope` is `type:name:actions`; the name may itself hold colons (a host:port prefix). */
function grantAccess(
  username: string,
  scopes: readonly string[],
  grants: GrantFunction | undefined,
): AccessEntry[] {
  const access: AccessEntry[] = [];
  for (const scope of scopes.flatMap((value) => value.split(' ')).filter(Boolean)) {
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first < 0 || last === first) continue;
    const type = scope.slice(0, first);
    const name = scope.slice(first + 1, last);
    const requested = scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean);
    const actions = grants ? [...grants(username, name, requested, type)] : requested;
    if (actions.length > 0) access.push({ type, name, actions });
  }
  return access;
}

function basicCredentials(
  request: IncomingMessage,
): { username: string; password: string } | 'malformed' | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Basic\s+(\S+)$/i.exec(header);
  if (!match) return 'malformed';
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function passwordMatches(
  users: Record<string, string>,
  credentials: { username: string; password: string },
): boolean {
  const expected = Object.hasOwn(users, credentials.username) ? users[credentials.username] : undefined;
  if (expected === undefined) return false;
  const given = Buffer.from(credentials.password);
  const wanted = Buffer.from(expected);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
