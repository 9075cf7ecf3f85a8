import { isDigest, type Digest } from './digest';

/** A reference to content in a registry: a repository plus a tag and/or a digest. */
export interface Reference {
  /** The registry base URL, e.g. `http://127.0.0.1:5000`. */
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

/** distribution's limit on a full repository name (its `NameTooLong` check). */
export const MAX_REPOSITORY_NAME_LENGTH = 255;
/** The OCI distribution spec's limit on a tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`. */
export const MAX_TAG_LENGTH = 128;

// distribution's reference grammar: path components of lower-case alphanumerics joined by
// separators (`.`, `_`, `__`, one or more `-`), components joined by `/`.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** Why a repository name is invalid, or undefined when it is valid. */
export function repositoryNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'repository name is empty';
  if (name.length > MAX_REPOSITORY_NAME_LENGTH) {
    return `repository name is longer than ${MAX_REPOSITORY_NAME_LENGTH} characters`;
  }
  for (const component of name.split('/')) {
    if (component.length === 0) return 'repository name has an empty path component';
    if (!PATH_COMPONENT.test(component)) {
      return `repository name component '${truncate(component)}' is not lower-case alphanumerics separated by '.', '_', '__' or '-'`;
    }
  }
  return undefined;
}

/** True when `name` follows distribution's repository name grammar. */
export function isRepositoryName(name: unknown): name is string {
  return repositoryNameProblem(name) === undefined;
}

/** True when `tag` follows the OCI tag grammar. */
export function isTag(tag: unknown): tag is string {
  return typeof tag === 'string' && TAG_PATTERN.test(tag);
}

/** Error thrown for a malformed repository name, tag or `repo:tag` / `repo@digest` string. */
export class InvalidReferenceError extends Error {
  public readonly code = 'INVALID_REFERENCE';
  public constructor(message: string) {
    super(message);
    this.name = 'InvalidReferenceError';
  }
}

/**
 * Parses `repository:tag`, `repository@digest` or `repository:tag@digest` (no registry host:
 * the registry always comes from configuration, never from user-supplied references).
 */
export function parseReference(registry: string, value: string): Reference {
  let rest = value;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const candidate = rest.slice(at + 1);
    if (!isDigest(candidate)) throw new InvalidReferenceError(`'${truncate(value)}': invalid digest`);
    digest = candidate;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isTag(tag)) throw new InvalidReferenceError(`'${truncate(value)}': invalid tag '${truncate(tag)}'`);
  }
  const problem = repositoryNameProblem(rest);
  if (problem) throw new InvalidReferenceError(`'${truncate(value)}': ${problem}`);
  if (tag === undefined && digest === undefined) {
    throw new InvalidReferenceError(`'${truncate(value)}': expected REPOSITORY:TAG or REPOSITORY@DIGEST`);
  }
  return { registry, repository: rest, ...(tag !== undefined && { tag }), ...(digest && { digest }) };
}

/** `repository:tag` / `repository@digest` for messages. */
export function formatReference(reference: Reference): string {
  return `${reference.repository}${reference.tag ? `:${reference.tag}` : ''}${reference.digest ? `@${reference.digest}` : ''}`;
}

function truncate(value: string, max = 64): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
