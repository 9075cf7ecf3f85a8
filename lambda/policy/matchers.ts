import picomatch from 'picomatch';
import type { Digest } from '../domain';

/**
 * Why `source` is not a usable whole-tag regular expression, or undefined when it is.
 *
 * The source is compiled on its own before it is anchored: `a)|(b` would otherwise become the
 * valid but unanchored `^(?:a)|(b)$`. A source that compiles alone has balanced groups, so
 * wrapping it cannot change its meaning.
 */
export function regexProblem(source: string): string | undefined {
  if (source.length === 0) return 'expected a non-empty regular expression';
  try {
    new RegExp(source);
  } catch (error) {
    return `invalid regular expression: ${regexMessage(error, source)}`;
  }
  return undefined;
}

/** Compiles a policy regex so that it must match the WHOLE tag (`^(?:source)$`). */
export function compileWholeTag(source: string): RegExp {
  return new RegExp(`^(?:${source})$`);
}

/** How many capture groups a regex source has (an alternative with the empty string always matches). */
export function captureGroupCount(source: string): number {
  return (new RegExp(`${source}|`).exec('') as RegExpExecArray).length - 1;
}

// Repository names are lower-case alphanumerics and `._-/`; the rest are picomatch's glob syntax.
const GLOB_CHARACTERS = /^[a-z0-9._\-/*?[\]{}!,()+@|^]+$/;

/** Why `glob` is not a usable repository glob, or undefined when it is. */
export function globProblem(glob: string): string | undefined {
  if (glob.length === 0) return 'expected a non-empty glob';
  if (/[A-Z]/.test(glob)) return `'${glob}' can never match: repository names are lower-case`;
  if (!GLOB_CHARACTERS.test(glob)) return `'${glob}' has characters that no repository name contains`;
  if (glob.startsWith('/') || glob.endsWith('/')) return `'${glob}' must not start or end with '/'`;
  // picomatch does not throw on a malformed glob such as `a{`: it compiles it to a regex that
  // matches nothing, which would silently disable the rule.
  if (picomatch.makeRe(glob).source === '$^') return `'${glob}' is not a valid glob`;
  return undefined;
}

/**
 * A matcher for repository names: `*` within a path segment, `**` across segments (`apps/**`
 * also matches `apps` itself, as picomatch does).
 */
export function compileRepositoryGlobs(globs: readonly string[]): (repository: string) => boolean {
  if (globs.includes('**')) return () => true;
  return picomatch([...globs]);
}

// The OCI 1.1 referrers tag schema (oras, notation, cosign on registries without the referrers
// API) tags an index of a subject's artifacts `sha256-<hex of the subject>`; cosign's older
// schema tags a signature, attestation or SBOM `sha256-<hex of the subject>.<kind>`.
const REFERRER_TAG = /^sha256-([a-f0-9]{64})(?:\.(?:sig|att|sbom))?$/;

/**
 * The subject digest a referrer tag belongs to: the referrers tag schema `sha256-<hex>` or
 * cosign's `sha256-<hex>.sig|.att|.sbom`. Undefined for any other tag.
 */
export function referrerSubject(tag: string): Digest | undefined {
  if (!tag.startsWith('sha256-')) return undefined; // the common case, without a match array
  const match = REFERRER_TAG.exec(tag);
  return match ? `sha256:${match[1]}` : undefined;
}

function regexMessage(error: unknown, source: string): string {
  const message = error instanceof Error ? error.message : String(error);
  // V8 says "Invalid regular expression: /(a/: Unterminated group"; keep only the last part.
  const prefix = `Invalid regular expression: /${source}/: `;
  if (message.startsWith(prefix)) return message.slice(prefix.length);
  const lastColon = message.lastIndexOf(': ');
  return lastColon >= 0 ? message.slice(lastColon + 2) : message;
}
