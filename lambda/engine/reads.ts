import pMap from 'p-map';
import type { Digest, ManifestLinks } from '../domain';
import {
  AuthenticationError,
  DeletionDisabledError,
  RegistryUnreachableError,
  type RegistryClient,
  type ResolvedManifest,
} from '../registry';

/*
 * The registry reads and error rules every part of the engine shares: the inventory, the facts
 * cache, the re-verification before removals and the removals themselves.
 */

/** What is known about one digest: enough to plan and to protect an index's children. */
export interface DigestFacts {
  readonly created?: Date;
  /** Read from the manifest (always for an index): its children and `subject`. */
  readonly links?: ManifestLinks;
}

/** One repository's read of the inventory, guarded: undefined when the repository is unreadable. */
export type GuardedRead = <T>(name: string, read: () => Promise<T>) => Promise<T | undefined>;

/**
 * Errors that no repository can get past (credentials refused, deletion disabled, nothing listening
 * at the registry's address): they stop the run instead of marking one repository unreadable.
 */
export function isRunFatal(error: unknown): boolean {
  return (
    error instanceof DeletionDisabledError ||
    error instanceof AuthenticationError ||
    error instanceof RegistryUnreachableError
  );
}

/** An error's message (registry errors carry no credentials). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Every tag of `repository`, as listed right now (all pages). */
export async function listTags(client: RegistryClient, repository: string): Promise<string[]> {
  const tags: string[] = [];
  for await (const tag of client.tags(repository)) tags.push(tag);
  return tags;
}

/**
 * Maps every tag the repository has right now to its digest and media type (one HEAD per tag):
 * the fresh look taken just before removing anything.
 */
export async function readCurrentTags(
  client: RegistryClient,
  repository: string,
  concurrency: number,
): Promise<Map<string, ResolvedManifest>> {
  const tags = await listTags(client, repository);
  const current = new Map<string, ResolvedManifest>();
  await pMap(
    tags,
    async (tag) => {
      const manifest = await client.resolve(repository, tag);
      if (manifest) current.set(tag, manifest);
    },
    { concurrency },
  );
  return current;
}

/** The key of one digest of one repository in the inventory's maps. */
export function digestKey(repository: string, digest: Digest): string {
  return `${repository}@${digest}`;
}
