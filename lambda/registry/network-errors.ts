import { RegistryError, RegistryUnreachableError } from './errors';
import type { TransportRequest } from './http';

/** Network codes that mean "nothing is listening there" rather than "the connection broke". */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);

/** The Node/undici error code of a failure, looking through up to two causes. */
export function errorCode(error: unknown): string | undefined {
  // undici wraps some socket errors; the interesting code may sit on the cause.
  for (let current: unknown = error, depth = 0; current && depth < 3; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The {@link RegistryError} for a request that got no answer: {@link RegistryUnreachableError}
 * when nothing listens there, else one naming the request and the network error. Registry errors
 * (a body over its cap, a refused redirect) pass through unchanged.
 */
export function networkError(
  request: TransportRequest,
  error: unknown,
  code: string | undefined,
): RegistryError {
  if (error instanceof RegistryError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  const options = { method: request.method, url: request.url, ...(code && { code }), cause: error };
  if (code && UNREACHABLE_CODES.has(code)) {
    return new RegistryUnreachableError(new URL(request.url).origin, `${reason} (${code})`, options);
  }
  return new RegistryError(
    `${request.what}: ${request.method} failed: ${reason}${code ? ` (${code})` : ''}`,
    options,
  );
}
