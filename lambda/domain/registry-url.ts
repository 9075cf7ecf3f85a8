/** What is wrong with a registry base URL: the kind (for callers with their own wording) and why. */
export interface RegistryUrlProblem {
  readonly kind: 'not-a-url' | 'scheme' | 'credentials' | 'path' | 'query' | 'fragment';
  readonly reason: string;
}

/**
 * The one rule for a registry base URL: `http(s)://host[:port]`, nothing else. A path, query,
 * fragment or user info is refused rather than repaired: those would either be ignored silently
 * or leak credentials into every error message. Undefined when `value` is a registry base URL.
 */
export function registryUrlProblem(value: string): RegistryUrlProblem | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { kind: 'not-a-url', reason: 'not an absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { kind: 'scheme', reason: `scheme ${url.protocol} is not http: or https:` };
  }
  if (url.username || url.password) return { kind: 'credentials', reason: 'it contains credentials' };
  if (url.pathname !== '/' && url.pathname !== '') {
    return { kind: 'path', reason: `it has a path (${url.pathname})` };
  }
  if (url.search || value.includes('?')) return { kind: 'query', reason: 'it has a query' };
  if (url.hash || value.includes('#')) return { kind: 'fragment', reason: 'it has a fragment' };
  return undefined;
}

/** The registry base URL in the configuration is not `http(s)://host[:port]`. */
export class InvalidRegistryUrlError extends Error {
  public readonly code = 'INVALID_REGISTRY_URL';

  public constructor(reason: string) {
    super(
      `invalid registry URL: ${reason}; expected http(s)://host[:port] with no path, query or credentials`,
    );
    this.name = 'InvalidRegistryUrlError';
  }
}

/**
 * Validates a registry base URL (see {@link registryUrlProblem}) and returns its origin
 * (`http://127.0.0.1:5000`); throws {@link InvalidRegistryUrlError} naming the problem.
 */
export function registryOrigin(value: string): string {
  const problem = registryUrlProblem(value);
  if (problem) throw new InvalidRegistryUrlError(problem.reason);
  return new URL(value).origin;
}
