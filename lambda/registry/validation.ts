import { InvalidReferenceError, isDigest, isTag, repositoryNameProblem, type Digest } from '../domain';

// Checks made before any request: a bad name never reaches a URL, and the message says why.

/** Throws InvalidReferenceError unless `repository` follows distribution's name grammar. */
export function checkRepository(repository: string): void {
  const problem = repositoryNameProblem(repository);
  if (problem) throw new InvalidReferenceError(problem);
}

/** Throws unless the repository is valid and `tag` is a tag; returns the tag. */
export function checkTag(repository: string, tag: string): string {
  checkRepository(repository);
  if (!isTag(tag)) throw new InvalidReferenceError(`'${String(tag).slice(0, 64)}' is not a valid tag`);
  return tag;
}

/** Throws unless the repository is valid and `reference` is a tag or a digest; returns the reference. */
export function checkReference(repository: string, reference: string): string {
  checkRepository(repository);
  if (!isTag(reference) && !isDigest(reference)) {
    throw new InvalidReferenceError(
      `'${String(reference).slice(0, 80)}' is neither a valid tag nor a digest`,
    );
  }
  return reference;
}

/** Throws unless the repository is valid and `digest` is a digest. */
export function checkDigest(repository: string, digest: string): Digest {
  checkRepository(repository);
  if (!isDigest(digest))
    throw new InvalidReferenceError(`'${String(digest).slice(0, 80)}' is not a valid digest`);
  return digest;
}

/** Throws a RangeError naming the option unless `value` is a whole number ≥ 1. */
export function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive whole number, got ${value}`);
  return value;
}

/** Throws a RangeError naming the option unless `value` is a whole number ≥ 0. */
export function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0)
    throw new RangeError(`${name} must be a whole number ≥ 0, got ${value}`);
  return value;
}
