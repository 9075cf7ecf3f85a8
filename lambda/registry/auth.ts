/**
 * The pieces of registry authentication that are pure: parsing `WWW-Authenticate` challenges,
 * token scopes, and the token cache. The flow that uses them lives in `authenticator.ts`.
 */

/** One challenge of a `WWW-Authenticate` header: `Bearer realm="...",service="...",scope="..."`. */
export interface Challenge {
  /** Lower-cased: `basic`, `bearer`, ... */
  readonly scheme: string;
  /** Parameter names lower-cased, values unquoted. */
  readonly parameters: Readonly<Record<string, string>>;
}

/**
 * Parses a `WWW-Authenticate` header (RFC 9110 §11.6.1): one or more challenges, each a scheme
 * followed by comma-separated `name=value` / `name="quoted, value"` parameters. Commas inside
 * quotes (as in `scope="repository:a:pull,push"`) do not split. Garbage yields no challenge.
 */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const challenges: Array<{ scheme: string; parameters: Record<string, string> }> = [];
  for (const value of values) {
    let index = 0;
    const skip = (pattern: RegExp) => {
      while (index < value.length && pattern.test(value[index] ?? '')) index += 1;
    };
    while (index < value.length) {
      skip(/[\s,]/);
      const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/.exec(value.slice(index))?.[0];
      if (!token) break;
      index += token.length;
      skip(/\s/);
      if (value[index] === '=' && challenges.length > 0) {
        // `name=value`: a parameter of the current challenge.
        index += 1;
        skip(/\s/);
        let parameterValue = '';
        if (value[index] === '"') {
          index += 1;
          while (index < value.length && value[index] !== '"') {
            if (value[index] === '\\') index += 1;
            parameterValue += value[index] ?? '';
            index += 1;
          }
          index += 1;
        } else {
          const match = /^[^\s,]*/.exec(value.slice(index))?.[0] ?? '';
          parameterValue = match;
          index += match.length;
        }
        const current = challenges[challenges.length - 1];
        if (current) current.parameters[token.toLowerCase()] = parameterValue;
      } else {
        challenges.push({ scheme: token.toLowerCase(), parameters: {} });
        // A token68 credential after the scheme (`Negotiate abc==`) is not a parameter: skip it.
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*=/.test(value.slice(index))) {
          const token68 = /^[A-Za-z0-9._~+/-]+=*(?=\s*(,|$))/.exec(value.slice(index))?.[0];
          if (token68) index += token68.length;
        }
      }
    }
  }
  return challenges;
}

/** An access scope of the Docker token protocol: `repository:apps/web:pull,delete`. */
export interface Scope {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

/** A `repository:<name>:<actions>` token scope. */
export function repositoryScope(repository: string, ...actions: string[]): Scope {
  return { type: 'repository', name: repository, actions };
}

/** `type:name:action,action` */
export function formatScope(scope: Scope): string {
  return `${scope.type}:${scope.name}:${scope.actions.join(',')}`;
}

/**
 * Parses a challenge's `scope` parameter: space-separated `type:name:actions`. The name may
 * itself contain colons (`repository:host:5000/app:pull`), so the type is everything before the
 * first colon and the actions everything after the last.
 */
export function parseScopes(value: string | undefined): Scope[] {
  if (!value) return [];
  const scopes: Scope[] = [];
  for (const part of value.split(/\s+/)) {
    const first = part.indexOf(':');
    const last = part.lastIndexOf(':');
    if (first <= 0 || last === first) continue;
    const actions = part
      .slice(last + 1)
      .split(',')
      .filter(Boolean);
    scopes.push({ type: part.slice(0, first), name: part.slice(first + 1, last), actions });
  }
  return scopes;
}

/** Scopes merged per resource, actions in first-seen order: what a token request asks for. */
export function mergeScopes(...lists: ReadonlyArray<readonly Scope[]>): Scope[] {
  const merged = new Map<string, { type: string; name: string; actions: string[] }>();
  for (const scope of lists.flat()) {
    const key = `${scope.type}:${scope.name}`;
    const entry = merged.get(key) ?? { type: scope.type, name: scope.name, actions: [] };
    for (const action of scope.actions) if (!entry.actions.includes(action)) entry.actions.push(action);
    merged.set(key, entry);
  }
  return [...merged.values()];
}

/** True when a token granted for `granted` can serve a request needing `needed`. */
export function scopesCover(granted: readonly Scope[], needed: readonly Scope[]): boolean {
  return needed.every((scope) =>
    granted.some(
      (grant) =>
        grant.type === scope.type &&
        grant.name === scope.name &&
        (grant.actions.includes('*') || scope.actions.every((action) => grant.actions.includes(action))),
    ),
  );
}

/** The lifetime the token protocol says to assume when `expires_in` is absent. */
export const DEFAULT_TOKEN_LIFETIME_MS = 60_000;
/** Tokens are renewed this long before they expire (at most a fifth of their lifetime), so none expires in flight. */
export const TOKEN_REFRESH_MARGIN_MS = 10_000;

interface CachedToken {
  readonly token: string;
  readonly scopes: readonly Scope[];
  readonly renewAt: number;
}

/**
 * Bearer tokens by the scopes they were requested for. A token serves any request whose scopes
 * it covers (a `pull,delete` token serves a `pull` request), until shortly before it expires.
 */
export class TokenCache {
  private readonly entries = new Map<string, CachedToken>();

  public constructor(private readonly clock: () => number = Date.now) {}

  /** A live token covering `needed`, if any. */
  public find(needed: readonly Scope[]): string | undefined {
    const now = this.clock();
    for (const [key, entry] of this.entries) {
      if (entry.renewAt <= now) {
        this.entries.delete(key);
      } else if (scopesCover(entry.scopes, needed)) {
        return entry.token;
      }
    }
    return undefined;
  }

  /** Stores a token valid for `lifetimeMs` from now. */
  public store(scopes: readonly Scope[], token: string, lifetimeMs: number): void {
    const margin = Math.min(TOKEN_REFRESH_MARGIN_MS, lifetimeMs / 5);
    this.entries.set(scopes.map(formatScope).sort().join(' '), {
      token,
      scopes,
      renewAt: this.clock() + lifetimeMs - margin,
    });
  }

  /** Forgets a token the registry refused. */
  public invalidate(token: string): void {
    for (const [key, entry] of this.entries) if (entry.token === token) this.entries.delete(key);
  }
}
