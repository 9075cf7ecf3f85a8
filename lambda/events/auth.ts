import { createHash, timingSafeEqual } from 'node:crypto';

// RFC 6750: the scheme is case-insensitive, then one or more spaces, then the token.
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * Constant-time check of `Authorization: Bearer <token>` against the expected token. Both sides
 * are hashed first and the fixed-length digests compared with `timingSafeEqual`, so neither the
 * content nor the length of the expected token shows in the timing. An empty expected token never
 * matches: a missing configuration must not open the gate.
 */
export function bearerTokenMatches(authorizationHeader: string | undefined, expectedToken: string): boolean {
  if (typeof expectedToken !== 'string' || expectedToken.length === 0) return false;
  if (typeof authorizationHeader !== 'string') return false;
  const presented = BEARER.exec(authorizationHeader.trim())?.[1];
  if (presented === undefined) return false;
  return timingSafeEqual(sha256(presented), sha256(expectedToken));
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
