import { digestMatches, type Digest, type Plan } from '../domain';
import type { LedgerManifest, LedgerStore } from '../ledger';
import type { RegistryClient } from '../registry';
import { errorMessage } from './reads';

/** One removal to archive before it is sent. */
export interface ArchiveEntry {
  readonly repository: string;
  readonly digest: Digest;
  /**
   * The tags it takes down: every planned tag of a digest delete, the one tag of an untag, none
   * for an untagged manifest.
   */
  readonly tags: readonly string[];
  /** The plan's reason (of the first tag). */
  readonly reason: string;
}

/**
 * Archives each removal's manifest body into the ledger under the run's id, before the removal is
 * sent (`restore --run` pushes it back). The body comes from the ledger's facts when they kept it
 * (the facts cache wrote it when it last read the manifest; a digest names exactly one body, and
 * the bytes are checked against it), else from one GET of the manifest. The facts of a repository's
 * planned removals are read from the ledger once, on its first archive.
 */
export function createArchiver(
  client: RegistryClient,
  ledger: LedgerStore,
  plan: Plan,
  runId: string,
  now: () => Date,
  warn?: (message: string) => void,
): (entry: ArchiveEntry) => Promise<void> {
  const facts = new Map<string, Promise<ReadonlyMap<Digest, LedgerManifest>>>();
  const factsOf = (repository: string): Promise<ReadonlyMap<Digest, LedgerManifest>> => {
    let known = facts.get(repository);
    if (!known) {
      known = ledger.getManifests(repository, plannedDigests(plan, repository)).catch((error: unknown) => {
        warn?.(`the ledger could not give ${repository}'s manifest bodies: ${errorMessage(error)}`);
        return new Map<Digest, LedgerManifest>();
      });
      facts.set(repository, known);
    }
    return known;
  };
  return async (entry) => {
    const record = (await factsOf(entry.repository)).get(entry.digest);
    const kept =
      record?.body && record.mediaType && digestMatches(entry.digest, record.body) ? record : undefined;
    const { mediaType, body } = kept
      ? { mediaType: kept.mediaType as string, body: kept.body as Uint8Array }
      : await client.getManifest(entry.repository, entry.digest).then((content) => ({
          mediaType: content.mediaType,
          body: content.bytes,
        }));
    await ledger.archiveRemoval({
      runId,
      repository: entry.repository,
      digest: entry.digest,
      tags: entry.tags,
      mediaType,
      body,
      removedAt: now(),
      reason: entry.reason,
    });
  };
}

/** The digests a plan removes in one repository: its tag removals' and its untagged manifests'. */
function plannedDigests(plan: Plan, name: string): Digest[] {
  const repository = plan.repositories.find((entry) => entry.name === name);
  if (!repository) return [];
  const digests = new Set<Digest>();
  for (const tag of repository.tags) if (tag.action !== 'keep') digests.add(tag.digest);
  for (const manifest of repository.untagged ?? [])
    if (manifest.action === 'delete') digests.add(manifest.digest);
  return [...digests];
}
