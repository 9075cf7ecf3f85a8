import pMap from 'p-map';
import { parseManifest, type Digest, type ParsedManifest } from '../domain';
import type { LedgerRemoval } from '../ledger';
import type { RegistryClient } from '../registry';

/** What restoring one archived removal did (or, with `dryRun`, would do). */
export interface RestoredManifest {
  readonly repository: string;
  readonly digest: Digest;
  readonly mediaType: string;
  readonly runId: string;
  /**
   * `restored`: pushed back (or already there); `would-restore`: a dry run found everything it
   * needs; `cannot`: something it needs is gone (`reason` says what).
   */
  readonly result: 'restored' | 'would-restore' | 'cannot';
  readonly reason?: string;
  /** Each tag the removal took down, and what became of it. */
  readonly tags: readonly RestoredTag[];
}

export interface RestoredTag {
  readonly tag: string;
  /**
   * `restored` / `would-restore`; `kept`: the tag exists again, pointing elsewhere (pushed since
   * the removal): it is left as it is; `cannot`: its manifest cannot come back.
   */
  readonly result: 'restored' | 'would-restore' | 'kept' | 'cannot';
  readonly reason?: string;
}

/**
 * Puts archived manifests back: per repository, children before the indexes that list them,
 * then each tag. Before anything is pushed, every blob a manifest references (config, layers)
 * and every child it lists is checked: a manifest whose blobs garbage collection already removed
 * cannot come back, and neither can an index whose child cannot; those are reported with the
 * reason, never half-pushed. A tag that was pushed again since the removal keeps what it points
 * at now. With `dryRun` nothing is written.
 */
export async function restoreRemovals(
  client: RegistryClient,
  removals: readonly LedgerRemoval[],
  options: { readonly dryRun?: boolean; readonly concurrency?: number } = {},
): Promise<RestoredManifest[]> {
  const byRepository = new Map<string, Map<Digest, LedgerRemoval>>();
  for (const removal of removals) {
    const archived = byRepository.get(removal.repository) ?? new Map<Digest, LedgerRemoval>();
    const earlier = archived.get(removal.digest);
    // The same manifest archived by two runs: one restore, with the tags of both.
    archived.set(
      removal.digest,
      earlier ? { ...earlier, tags: [...new Set([...earlier.tags, ...removal.tags])] } : removal,
    );
    byRepository.set(removal.repository, archived);
  }
  const results: RestoredManifest[] = [];
  for (const [repository, archived] of [...byRepository].sort(([a], [b]) => (a < b ? -1 : 1))) {
    results.push(...(await restoreRepository(client, repository, archived, options)));
  }
  return results;
}

async function restoreRepository(
  client: RegistryClient,
  repository: string,
  archived: ReadonlyMap<Digest, LedgerRemoval>,
  options: { readonly dryRun?: boolean; readonly concurrency?: number },
): Promise<RestoredManifest[]> {
  const concurrency = options.concurrency ?? 4;
  const parsed = new Map<Digest, ParsedManifest>();
  for (const [digest, removal] of archived)
    parsed.set(digest, parseManifest(removal.mediaType, parseBody(removal.body)));

  // What the registry has now: the archived manifests themselves, their children and blobs.
  const present = new Map<Digest, boolean>();
  const wanted = new Set<Digest>();
  for (const [digest, manifest] of parsed) {
    wanted.add(digest);
    for (const child of manifest.children) wanted.add(child.digest);
  }
  await pMap(
    [...wanted],
    async (digest) => present.set(digest, (await client.resolve(repository, digest)) !== null),
    { concurrency },
  );
  const blobs = new Set<Digest>();
  for (const [digest, manifest] of parsed) {
    if (present.get(digest)) continue;
    if (manifest.config) blobs.add(manifest.config.digest);
    for (const layer of manifest.layers) blobs.add(layer.digest);
  }
  const blobPresent = new Map<Digest, boolean>();
  await pMap(
    [...blobs],
    async (digest) => blobPresent.set(digest, await client.blobExists(repository, digest)),
    {
      concurrency,
    },
  );

  // Why each archived manifest cannot come back, if it cannot (children first, so an index
  // whose child cannot come back cannot either).
  const blocked = new Map<Digest, string>();
  const order = childrenFirst(parsed);
  for (const digest of order) {
    if (present.get(digest)) continue;
    const manifest = parsed.get(digest) as ParsedManifest;
    const missingBlob = [manifest.config, ...manifest.layers].find(
      (blob) => blob !== undefined && !blobPresent.get(blob.digest),
    );
    if (missingBlob) {
      blocked.set(digest, `blob ${missingBlob.digest} is gone (garbage collection removed it)`);
      continue;
    }
    const missingChild = manifest.children.find(
      (child) => !present.get(child.digest) && (!archived.has(child.digest) || blocked.has(child.digest)),
    );
    if (missingChild) {
      blocked.set(
        digest,
        archived.has(missingChild.digest)
          ? `its manifest ${missingChild.digest} cannot come back: ${blocked.get(missingChild.digest)}`
          : `its manifest ${missingChild.digest} is gone and was not archived`,
      );
    }
  }

  const results: RestoredManifest[] = [];
  for (const digest of order) {
    const removal = archived.get(digest) as LedgerRemoval;
    const reason = blocked.get(digest);
    const base = { repository, digest, mediaType: removal.mediaType, runId: removal.runId };
    if (reason) {
      results.push({
        ...base,
        result: 'cannot',
        reason,
        tags: removal.tags.map((tag) => ({ tag, result: 'cannot', reason })),
      });
      continue;
    }
    if (!present.get(digest) && !options.dryRun) {
      const pushed = await client.putManifest(
        repository,
        digest,
        removal.mediaType,
        Buffer.from(removal.body),
      );
      if (pushed !== digest)
        throw new Error(`restoring ${repository}@${digest}: the registry stored it as ${pushed}`);
      present.set(digest, true);
    }
    const tags: RestoredTag[] = [];
    for (const tag of removal.tags)
      tags.push(await restoreTag(client, repository, tag, removal, options.dryRun));
    results.push({ ...base, result: options.dryRun ? 'would-restore' : 'restored', tags });
  }
  return results;
}

async function restoreTag(
  client: RegistryClient,
  repository: string,
  tag: string,
  removal: LedgerRemoval,
  dryRun: boolean | undefined,
): Promise<RestoredTag> {
  const now = await client.resolve(repository, tag);
  if (now && now.digest !== removal.digest)
    return { tag, result: 'kept', reason: `pushed again since: it points at ${now.digest}; left as it is` };
  if (now) return { tag, result: 'restored', reason: 'it points at the manifest already' };
  if (dryRun) return { tag, result: 'would-restore' };
  await client.putManifest(repository, tag, removal.mediaType, Buffer.from(removal.body));
  return { tag, result: 'restored' };
}

/** The archived digests, every child before the indexes that list it (a cycle cannot occur: digests). */
function childrenFirst(parsed: ReadonlyMap<Digest, ParsedManifest>): Digest[] {
  const order: Digest[] = [];
  const visited = new Set<Digest>();
  const visit = (digest: Digest): void => {
    if (visited.has(digest)) return;
    visited.add(digest);
    for (const child of parsed.get(digest)?.children ?? []) if (parsed.has(child.digest)) visit(child.digest);
    order.push(digest);
  };
  for (const digest of [...parsed.keys()].sort()) visit(digest);
  return order;
}

function parseBody(body: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(body).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
