import { createHash } from 'node:crypto';

/** A content digest, `algorithm:hex`, e.g. `sha256:4c1e...`. */
export type Digest = `${string}:${string}`;

const DIGEST_PATTERN = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

/** True when `value` is a well-formed digest (and, for sha256/sha512, the right hex length). */
export function isDigest(value: unknown): value is Digest {
  if (typeof value !== 'string' || !DIGEST_PATTERN.test(value)) return false;
  const [algorithm, hex] = value.split(':') as [string, string];
  const length = HEX_LENGTH[algorithm];
  return length === undefined || (hex.length === length && /^[a-f0-9]+$/.test(hex));
}

/** The sha256 digest of exactly these bytes. */
export function sha256Digest(bytes: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * The digest of `bytes` in the algorithm of `like` (a digest, or just `sha256:`), or undefined for
 * an algorithm regsweep cannot compute (only sha256 and sha512).
 */
export function digestInAlgorithmOf(like: string, bytes: Uint8Array): Digest | undefined {
  const algorithm = like.slice(0, like.indexOf(':'));
  if (algorithm !== 'sha256' && algorithm !== 'sha512') return undefined;
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** True when `digest` is the digest of exactly these bytes (false for an algorithm it cannot compute). */
export function digestMatches(digest: Digest, bytes: Uint8Array): boolean {
  return digestInAlgorithmOf(digest, bytes) === digest;
}
