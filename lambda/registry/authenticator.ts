import {
  DEFAULT_TOKEN_LIFETIME_MS,
  TokenCache,
  formatScope,
  mergeScopes,
  parseChallenges,
  parseScopes,
  type Challenge,
  type Scope,
} from './auth';
import {
  AuthenticationError,
  ForeignHostError,
  RegistryError,
  parseErrorBody,
  type AuthenticationFailure,
} from './errors';
import type { TransportResponse } from './http';
import type { Transport } from './transport';
import type { Credentials, CredentialsProvider } from './types';

/** Token service answers are small JSON documents; anything bigger is not one. */
export const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;

/** What one operation has already tried, so that each remedy is tried once. */
export interface AuthAttempt {
  /** Scopes the operation needs; challenge scopes it lacked are merged in. */
  scopes: Scope[];
  renewedToken: boolean;
  refetchedCredentials: boolean;
  rounds: number;
}

/** How many 401 answers one operation absorbs before giving up (learn, renew, refetch). */
const MAX_AUTH_ROUNDS = 3;

/**
 * Decides the Authorization header of registry requests and reacts to 401 answers.
 *
 * The first request goes out anonymously; its challenge tells which scheme the registry wants
 * (Basic, or Bearer with a token realm), and from then on the header is sent up front. Bearer
 * tokens are fetched from the realm named by the configured registry's own challenge (the only
 * place Basic credentials go besides the registry), cached per scope and renewed before expiry.
 * Credential values never reach an error: messages name the registry and the status only.
 */
export class Authenticator {
  private scheme: 'unknown' | 'basic' | 'bearer' = 'unknown';
  private bearerRealm?: { realm: string; service?: string };
  private readonly tokens: TokenCache;
  private readonly pendingTokens = new Map<string, Promise<string>>();
  private credentials?: Promise<Credentials | undefined>;

  public constructor(
    private readonly transport: Transport,
    private readonly registry: string,
    private readonly source: Credentials | CredentialsProvider | undefined,
    clock: () => number = Date.now,
  ) {
    this.tokens = new TokenCache(clock);
  }

  /** The Authorization header for a request needing `scopes`, or undefined to go anonymously. */
  public async authorization(scopes: readonly Scope[]): Promise<string | undefined> {
    if (this.scheme === 'unknown') return undefined;
    const credentials = await this.currentCredentials();
    if (credentials && 'token' in credentials) return `Bearer ${credentials.token}`;
    if (this.scheme === 'basic') return credentials ? basicAuthorization(credentials) : undefined;
    return `Bearer ${await this.bearerToken(scopes)}`;
  }

  /**
   * Digests a 401: learns the scheme, drops a refused token, or refetches refused credentials,
   * and returns when one more try makes sense; throws {@link AuthenticationError} otherwise.
   */
  public async unauthorized(
    response: TransportResponse,
    method: string,
    sent: string | undefined,
    attempt: AuthAttempt,
  ): Promise<void> {
    const fail = (reason: string, failure: AuthenticationFailure = 'credentials-refused'): never => {
      throw new AuthenticationError(`the registry at ${this.registry} ${reason}`, {
        failure,
        method,
        url: response.url,
        statusCode: response.status,
        diagnostics: parseErrorBody(response.body),
        code: parseErrorBody(response.body)[0]?.code ?? 'UNAUTHORIZED',
      });
    };
    // Only the configured registry's own challenge may name a realm for its credentials; a
    // redirect target (blob storage) asking for authentication gets nothing.
    const answeredBy = new URL(response.url).origin;
    if (answeredBy !== this.registry) {
      throw new ForeignHostError(
        `${answeredBy}, where the registry at ${this.registry} redirected the request, asks for ` +
          'authentication; regsweep sends credentials only to the registry and its token realm',
        { method, url: response.url, statusCode: response.status },
      );
    }
    attempt.rounds += 1;
    if (attempt.rounds > MAX_AUTH_ROUNDS) fail('keeps answering 401 (unauthorized)');
    const challenges = parseChallenges(response.headers['www-authenticate']);
    const bearer = challenges.find((challenge) => challenge.scheme === 'bearer');
    const basic = challenges.find((challenge) => challenge.scheme === 'basic');
    if (bearer) {
      this.learnBearer(bearer, method, response.url);
      attempt.scopes = mergeScopes(attempt.scopes, parseScopes(bearer.parameters.scope));
    } else if (basic) {
      this.scheme = 'basic';
    } else {
      fail('answered 401 without a Basic or Bearer challenge regsweep can answer', 'unusable-challenge');
    }
    const credentials = await this.currentCredentials();
    if (sent === undefined) {
      if (this.scheme === 'basic' && !credentials)
        fail('requires credentials and none are configured', 'credentials-missing');
      return;
    }
    if (sent.startsWith('Bearer ') && !(credentials && 'token' in credentials)) {
      // A token from the realm: it expired early, was revoked, or lacks a scope. One fresh try.
      this.tokens.invalidate(sent.slice('Bearer '.length));
      if (!attempt.renewedToken) {
        attempt.renewedToken = true;
        return;
      }
      const scope = attempt.scopes.map(formatScope).join(' ') || '(none)';
      if (!credentials)
        fail(`requires credentials for scope ${scope} and none are configured`, 'credentials-missing');
      fail(`refused a fresh token for scope ${scope}: the account lacks these rights`, 'insufficient-scope');
    }
    if (!attempt.refetchedCredentials && typeof this.source === 'function') {
      attempt.refetchedCredentials = true;
      await this.refetchCredentials();
      return;
    }
    fail('refused the credentials (HTTP 401)');
  }

  private learnBearer(challenge: Challenge, method: string, url: string): void {
    const realm = challenge.parameters.realm;
    let parsed: URL | undefined;
    try {
      parsed = realm ? new URL(realm) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.username) {
      throw new AuthenticationError(
        `the registry at ${this.registry} sent a Bearer challenge without a usable http(s) realm`,
        { method, url, statusCode: 401, failure: 'unusable-challenge' },
      );
    }
    // Basic credentials travel to the realm: never downgrade them from https to plain http.
    if (new URL(this.registry).protocol === 'https:' && parsed.protocol !== 'https:') {
      throw new ForeignHostError(
        `the registry at ${this.registry} names a plain-http token realm ${parsed.origin}; refusing to send credentials there`,
        { method, url, statusCode: 401 },
      );
    }
    this.scheme = 'bearer';
    this.bearerRealm = {
      realm: parsed.toString(),
      ...(challenge.parameters.service !== undefined && { service: challenge.parameters.service }),
    };
  }

  private async bearerToken(scopes: readonly Scope[]): Promise<string> {
    const cached = this.tokens.find(scopes);
    if (cached !== undefined) return cached;
    const key = scopes.map(formatScope).sort().join(' ');
    let pending = this.pendingTokens.get(key);
    if (!pending) {
      pending = this.fetchToken(scopes).finally(() => this.pendingTokens.delete(key));
      this.pendingTokens.set(key, pending);
    }
    return pending;
  }

  private async fetchToken(scopes: readonly Scope[]): Promise<string> {
    const { realm, service } = this.bearerRealm as { realm: string; service?: string };
    const url = new URL(realm);
    if (service !== undefined) url.searchParams.set('service', service);
    for (const scope of scopes) url.searchParams.append('scope', formatScope(scope));
    for (let refetched = false; ; refetched = true) {
      const credentials = await this.currentCredentials();
      const response = await this.transport.send({
        method: 'GET',
        url: url.toString(),
        kind: 'token',
        headers:
          credentials && !('token' in credentials) ? { authorization: basicAuthorization(credentials) } : {},
        maxBodyBytes: MAX_TOKEN_RESPONSE_BYTES,
        what: `token from ${url.origin}`,
        idempotent: true,
      });
      const options = {
        method: 'GET',
        url: response.url,
        statusCode: response.status,
        diagnostics: parseErrorBody(response.body),
      };
      if (response.status === 401 || response.status === 403) {
        if (!refetched && typeof this.source === 'function') {
          await this.refetchCredentials();
          continue;
        }
        throw new AuthenticationError(
          `the token service at ${url.origin} (for the registry at ${this.registry}) refused ` +
            `${credentials ? 'the credentials' : 'anonymous access'} (HTTP ${response.status})`,
          {
            ...options,
            code: options.diagnostics[0]?.code ?? 'DENIED',
            failure: credentials ? 'credentials-refused' : 'credentials-missing',
          },
        );
      }
      if (response.status !== 200) {
        throw new RegistryError(
          `the token service at ${url.origin} answered HTTP ${response.status}`,
          options,
        );
      }
      const { token, lifetimeMs } = parseTokenResponse(response.body, url.origin, options);
      this.tokens.store(scopes, token, lifetimeMs);
      return token;
    }
  }

  private currentCredentials(): Promise<Credentials | undefined> {
    if (typeof this.source !== 'function') return Promise.resolve(this.source);
    this.credentials ??= this.source({ refresh: false });
    return this.credentials;
  }

  private async refetchCredentials(): Promise<void> {
    if (typeof this.source !== 'function') return;
    this.credentials = this.source({ refresh: true });
    await this.credentials;
  }
}

function basicAuthorization(credentials: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/** Reads `{token | access_token, expires_in?}`; the lifetime defaults to 60 s as the protocol says. */
function parseTokenResponse(
  body: Buffer,
  origin: string,
  options: { method: string; url: string; statusCode: number },
): { token: string; lifetimeMs: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString());
  } catch (cause) {
    throw new RegistryError(`the token service at ${origin} answered something other than JSON`, {
      ...options,
      cause,
    });
  }
  const {
    token,
    access_token: accessToken,
    expires_in: expiresIn,
  } = (parsed ?? {}) as Record<string, unknown>;
  const value = typeof token === 'string' && token ? token : accessToken;
  if (typeof value !== 'string' || !value) {
    throw new RegistryError(`the token service at ${origin} answered without a token`, options);
  }
  const seconds = typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : undefined;
  return { token: value, lifetimeMs: seconds === undefined ? DEFAULT_TOKEN_LIFETIME_MS : seconds * 1000 };
}
