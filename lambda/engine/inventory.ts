/*
 * The inventory: which repositories a run reads, and what it reads of each (tags, manifests, ages,
 * the graph beyond the tags). The reads the rest of the engine shares are in reads.ts, the facts
 * cache in facts-cache.ts, dangling tags in dangling.ts.
 */
import pMap from 'p-map';
import { isIndex, manifestLinks, type Inventory, type RepositoryInventory, type TagRecord } from '../domain';
import { policyCoversRepository, policyNeedsAge, type Policy } from '../policy';
import {
  DEFAULT_CONCURRENCY,
  isNotFound,
  resolvedFrom,
  type ManifestContent,
  type RegistryClient,
  type ResolvedManifest,
} from '../registry';
import type { LedgerStore } from '../ledger';
import { readRepositoryGraph, type ResolvedTag } from './index-graph';
import { findDangling } from './dangling';
import { readThroughLedger } from './facts-cache';
import { digestKey, errorMessage, isRunFatal, listTags, type DigestFacts, type GuardedRead } from './reads';
import { PhaseCounter, type ProgressListener } from './progress';

export interface InventoryOptions {
  /** Only these repositories (still subject to the policy's rules); default: the whole catalog. */
  readonly repositories?: readonly string[];
  readonly concurrency?: number;
  readonly progress?: ProgressListener;
  /**
   * The facts cache (see `lambda/engine/ledger.ts`): every tag is HEADed, its digest looked up in
   * the ledger, and only digests the ledger has no facts for are read; what was read is written
   * back. Absent: the reads described at {@link collectInventory}.
   */
  readonly ledger?: LedgerStore;
  /** Told of a ledger read or write that failed (the plan goes on without the cache). */
  readonly warn?: (message: string) => void;
}

/**
 * The repositories a run looks at: the named ones, or the catalog; either way only those that some
 * rule covers (a repository no rule covers keeps every tag, so it costs no requests).
 */
export async function selectRepositories(
  client: RegistryClient,
  policy: Policy,
  repositories?: readonly string[],
): Promise<string[]> {
  const names: string[] = [];
  if (repositories && repositories.length > 0) {
    names.push(...repositories);
  } else {
    for await (const name of client.catalog()) names.push(name);
  }
  return [...new Set(names)].filter((name) => policyCoversRepository(policy, name)).sort();
}

/** A tag an interrupted untag left pointing at its placeholder manifest. */
export interface PlaceholderTag {
  readonly repository: string;
  readonly tag: string;
  readonly manifest: ResolvedManifest;
}

/**
 * Reads every tag of the selected repositories. Where a rule orders or filters by age: one GET of
 * each tag's manifest (full Accept list), then once per unique digest the image's config (its
 * creation time). Elsewhere: one HEAD per tag, then once per index digest its children.
 *
 * Tags that interrupted untags left on a placeholder are set apart: a placeholder has no age, so
 * the planner would count it as the newest build of its stream and remove a tag it kept before.
 * Removing those tags finishes the untags. Dangling tags go in each repository's `dangling`.
 *
 * A repository that cannot be read (its tag list, a manifest, a config, after the retries) is left
 * out of the inventory and named in `unreadable` with the error: the others are read as usual.
 * Errors that stop every repository alike (see {@link isRunFatal}) are thrown.
 * Then, per repository, what the tags reach beyond their own manifests: untagged inner indexes,
 * referrers and orphan subjects (see {@link readRepositoryGraph}: one referrers-API probe per
 * repository on registries without it, plus one GET per inner index).
 */
export async function collectInventory(
  client: RegistryClient,
  policy: Policy,
  options: InventoryOptions = {},
): Promise<{ inventory: Inventory; placeholders: PlaceholderTag[]; unreadable: Map<string, string> }> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const names = await selectRepositories(client, policy, options.repositories);
  const unreadable = new Map<string, string>();
  // Runs one read of `name`'s; a failure marks the repository unreadable (the first error names
  // it) and gives undefined. Reads of a repository already unreadable are not sent.
  const guarded = async <T>(name: string, read: () => Promise<T>): Promise<T | undefined> => {
    if (unreadable.has(name)) return undefined;
    try {
      return await read();
    } catch (error) {
      if (isRunFatal(error)) throw error;
      if (!unreadable.has(name)) unreadable.set(name, errorMessage(error));
      return undefined;
    }
  };

  const listing = new PhaseCounter('list', names.length, options.progress);
  const tagLists = await pMap(
    names,
    async (name) => {
      const tags = (await guarded(name, () => listTags(client, name))) ?? [];
      listing.tick();
      return { name, tags };
    },
    { concurrency },
  );

  const resolving = new PhaseCounter(
    'resolve',
    tagLists.reduce((sum, entry) => sum + entry.tags.length, 0),
    options.progress,
  );
  const needsAge = new Map(names.map((name) => [name, policyNeedsAge(policy, name)]));
  const dated = new Map<string, Promise<DigestFacts>>();
  const ledger = options.ledger;
  const resolved = await pMap(
    tagLists.flatMap(({ name, tags }) => tags.map((tag) => ({ name, tag }))),
    async ({ name, tag }) => {
      // A tag removed since listing, or dangling, resolves to null (told apart below). Where a
      // rule needs ages the manifest must be read anyway: one GET by tag then resolves the tag
      // too, instead of a HEAD followed by a GET of the same manifest by digest.
      // With the facts cache, a HEAD: the digest it names decides whether anything is read.
      const manifest = await guarded(name, () =>
        needsAge.get(name) && !ledger ? resolveAndDate(client, name, tag, dated) : client.resolve(name, tag),
      );
      resolving.tick();
      // Undefined: the read failed (the repository is unreadable); null: the tag did not resolve.
      return { name, tag, manifest: manifest ?? (unreadable.has(name) ? undefined : null) };
    },
    { concurrency },
  );

  const cache = ledger
    ? await readThroughLedger(client, ledger, resolved, needsAge, dated, concurrency, guarded, options.warn)
    : undefined;
  const facts = await collectDigestFacts(client, resolved, dated, concurrency, guarded, options.progress);
  const dangling = await findDangling(
    client,
    resolved.filter((entry) => entry.manifest === null),
    concurrency,
    guarded,
  );
  const readable = names.filter((name) => !unreadable.has(name));
  const byRepository = new Map<string, TagRecord[]>(readable.map((name) => [name, []]));
  const graphInput = new Map<string, ResolvedTag[]>(readable.map((name) => [name, []]));
  const placeholders: PlaceholderTag[] = [];
  for (const { name, tag, manifest } of resolved) {
    if (!manifest || unreadable.has(name)) continue;
    if (manifest.placeholder) {
      placeholders.push({ repository: name, tag, manifest });
      continue;
    }
    const known = facts.get(digestKey(name, manifest.digest));
    const links = known?.links;
    byRepository.get(name)?.push({
      tag,
      digest: manifest.digest,
      mediaType: manifest.mediaType,
      ...(known?.created && { created: known.created }),
      ...(links?.children && { children: links.children }),
      ...(links?.subject && { subject: links.subject }),
    });
    graphInput.get(name)?.push({ tag, manifest, ...(links && { links }) });
  }
  // Untagged inner indexes, referrers and orphan subjects, per repository (see readRepositoryGraph).
  const graphs = new Map(
    await pMap(
      readable,
      async (name) =>
        [
          name,
          await guarded(name, () =>
            readRepositoryGraph(
              client,
              name,
              graphInput.get(name) ?? [],
              needsAge.get(name) === true,
              concurrency,
              cache?.graphFacts(name),
            ),
          ),
        ] as const,
      { concurrency },
    ),
  );
  // A repository whose graph could not be read is unreadable too: none of its tags is planned.
  for (const name of unreadable.keys()) byRepository.delete(name);
  if (cache) await cache.write(readable.filter((name) => !unreadable.has(name)));
  const repositories: RepositoryInventory[] = [...byRepository].map(([name, tags]) => {
    const left = dangling.get(name);
    const graph = graphs.get(name);
    return {
      name,
      tags,
      ...(left && { dangling: left }),
      ...(graph?.indexes.length && { indexes: graph.indexes }),
      ...(graph?.referrers.length && { referrers: graph.referrers }),
      ...(graph?.absentSubjects.length && { absentSubjects: graph.absentSubjects }),
    };
  });
  return { inventory: { registry: client.registry, repositories }, placeholders, unreadable };
}

/**
 * Reads a tag's manifest (GET, full Accept list) and, once per digest, the facts the planner needs
 * from it: the image's age and an index's children. Null when the tag is gone (404).
 */
async function resolveAndDate(
  client: RegistryClient,
  repository: string,
  tag: string,
  dated: Map<string, Promise<DigestFacts>>,
): Promise<ResolvedManifest | null> {
  let content: ManifestContent;
  try {
    content = await client.getManifest(repository, tag);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
  const key = digestKey(repository, content.digest);
  let facts = dated.get(key);
  if (!facts) {
    facts = factsFromManifest(client, repository, content);
    dated.set(key, facts);
  }
  await facts;
  return resolvedFrom(content, tag);
}

async function factsFromManifest(
  client: RegistryClient,
  repository: string,
  content: ManifestContent,
): Promise<DigestFacts> {
  const created = await client.imageCreated(repository, content);
  return { ...(created && { created }), links: manifestLinks(content.manifest) };
}

/**
 * The facts of every resolved digest: those read with their tag's manifest (where ages are
 * needed), and, once per index digest elsewhere, the index's children (they protect kept indexes).
 */
async function collectDigestFacts(
  client: RegistryClient,
  resolved: ReadonlyArray<{ name: string; manifest: ResolvedManifest | null | undefined }>,
  dated: ReadonlyMap<string, Promise<DigestFacts>>,
  concurrency: number,
  guarded: GuardedRead,
  progress?: ProgressListener,
): Promise<Map<string, DigestFacts>> {
  const facts = new Map<string, DigestFacts>();
  for (const [key, known] of dated) {
    // A failed read was awaited, and its repository marked unreadable, when its tag was resolved.
    const read = await known.catch(() => undefined);
    if (read) facts.set(key, read);
  }
  const work = new Map<string, { name: string; manifest: ResolvedManifest }>();
  for (const { name, manifest } of resolved) {
    if (!manifest || !isIndex(manifest.mediaType)) continue;
    const key = digestKey(name, manifest.digest);
    if (!facts.has(key)) work.set(key, { name, manifest });
  }

  const counter = new PhaseCounter('age', work.size, progress);
  await pMap(
    [...work],
    async ([key, { name, manifest }]) => {
      const read = await guarded(name, () => readDigestFacts(client, name, manifest, false));
      if (read) facts.set(key, read);
      counter.tick();
    },
    { concurrency },
  );
  return facts;
}

/** The children of an index (from its manifest) and, when asked, the image's creation time. */
export async function readDigestFacts(
  client: RegistryClient,
  repository: string,
  manifest: ResolvedManifest,
  withAge: boolean,
): Promise<DigestFacts> {
  const created = withAge ? await client.imageCreated(repository, manifest) : undefined;
  if (!isIndex(manifest.mediaType)) return created ? { created } : {};
  const content = await client.getManifest(repository, manifest.digest);
  return { ...(created && { created }), links: manifestLinks(content.manifest) };
}
