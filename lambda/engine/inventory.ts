import pMap from 'p-map';
import {
  isIndex,
  manifestLinks,
  type ManifestLinks,
  type DanglingTag,
  type Digest,
  type Inventory,
  type RepositoryInventory,
  type TagRecord,
} from '../domain';
import { policyCoversRepository, policyNeedsAge, type Policy } from '../policy';
import {
  AuthenticationError,
  DEFAULT_CONCURRENCY,
  DeletionDisabledError,
  isNotFound,
  RegistryUnreachableError,
  resolvedFrom,
  type ManifestContent,
  type RegistryClient,
  type ResolvedManifest,
} from '../registry';
import type { LedgerManifest, LedgerStore, ManifestFacts } from '../ledger';
import { readRepositoryGraph, type GraphFacts, type ResolvedTag } from './index-graph';
import { hasFacts, linksOf, lookUpFacts, manifestFacts, writeFacts } from './ledger';
import { PhaseCounter, type ProgressListener } from './progress';

export { heldDigests } from './index-graph';

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

/** What is known about one digest: enough to plan and to protect an index's children. */
interface DigestFacts {
  readonly created?: Date;
  /** Read from the manifest (always for an index): its children and `subject`. */
  readonly links?: ManifestLinks;
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

/** The facts cache at work in one inventory: what the ledger knew, and what was read besides. */
interface LedgerReads {
  /** What the repository's graph takes from the ledger, and where it reports inner indexes read. */
  graphFacts(repository: string): GraphFacts;
  /** Writes the facts read (a failure is a warning): after the graphs, so inner indexes are in. */
  write(repositories: readonly string[]): Promise<void>;
}

/** Facts read from the registry in this inventory, with their index children by descriptor. */
interface ReadFacts {
  readonly facts: ManifestFacts;
  readonly childIndexes: readonly Digest[];
}

/**
 * The facts cache's reads (see `lambda/engine/ledger.ts`): per repository, the ledger's records of
 * the tagged digests (and the inner indexes they list); then, once per digest the ledger has no
 * facts for and the plan needs them (every digest where ages are read, else indexes), one GET of
 * the manifest and its build time (config, or an index's children): more than a plan without a
 * ledger reads for an index where no rule needs ages, so that the facts written are whole. The
 * tag's facts go into `dated` as the plan without a ledger would have them (no build time, and
 * no links for an image, where no rule needs ages). A failed ledger read is a warning: those
 * digests are read from the registry instead.
 */
async function readThroughLedger(
  client: RegistryClient,
  ledger: LedgerStore,
  resolved: ReadonlyArray<{ name: string; manifest: ResolvedManifest | null | undefined }>,
  needsAge: ReadonlyMap<string, boolean>,
  dated: Map<string, Promise<DigestFacts>>,
  concurrency: number,
  guarded: GuardedRead,
  warn?: (message: string) => void,
): Promise<LedgerReads> {
  const digestsOf = new Map<string, Map<Digest, ResolvedManifest>>();
  for (const { name, manifest } of resolved) {
    if (!manifest || manifest.placeholder) continue;
    const digests = digestsOf.get(name) ?? new Map<Digest, ResolvedManifest>();
    digests.set(manifest.digest, manifest);
    digestsOf.set(name, digests);
  }
  const records = new Map<string, Map<Digest, LedgerManifest>>(
    await pMap(
      [...digestsOf],
      async ([name, digests]) => {
        try {
          return [name, await lookUpFacts(ledger, name, [...digests.keys()])] as const;
        } catch (error) {
          warn?.(`the ledger could not give the facts of ${name}'s manifests: ${errorMessage(error)}`);
          return [name, new Map<Digest, LedgerManifest>()] as const;
        }
      },
      { concurrency },
    ),
  );
  const read = new Map<string, ReadFacts[]>();
  const innerRead = new Map<string, ManifestContent[]>();
  const noteRead = (name: string, entry: ReadFacts): void => {
    const list = read.get(name) ?? [];
    list.push(entry);
    read.set(name, list);
  };

  const work: Array<{ name: string; manifest: ResolvedManifest }> = [];
  for (const [name, digests] of digestsOf) {
    const known = records.get(name) ?? new Map<Digest, LedgerManifest>();
    const withAge = needsAge.get(name) === true;
    for (const manifest of digests.values()) {
      const record = known.get(manifest.digest);
      if (hasFacts(record)) {
        const links = linksOf(record, known);
        const cached: DigestFacts = withAge
          ? { ...(record.created && { created: record.created }), links }
          : { links };
        if (withAge || isIndex(manifest.mediaType))
          dated.set(digestKey(name, manifest.digest), Promise.resolve(cached));
      } else if (withAge || isIndex(manifest.mediaType)) {
        work.push({ name, manifest });
      }
    }
  }
  await pMap(
    work,
    async ({ name, manifest }) => {
      const found = await guarded(name, async () => {
        const content = await client.getManifest(name, manifest.digest);
        const created = await client.imageCreated(name, content);
        return { content, created, links: manifestLinks(content.manifest) };
      });
      if (!found) return;
      const { content, created, links } = found;
      noteRead(name, {
        facts: manifestFacts(content, links, created),
        childIndexes: links.childIndexes ?? [],
      });
      const withAge = needsAge.get(name) === true;
      dated.set(
        digestKey(name, manifest.digest),
        Promise.resolve(withAge ? { ...(created && { created }), links } : { links }),
      );
    },
    { concurrency },
  );

  return {
    graphFacts: (name) => {
      const known = records.get(name) ?? new Map<Digest, LedgerManifest>();
      const links = new Map<Digest, ManifestLinks>();
      for (const [digest, record] of known) if (hasFacts(record)) links.set(digest, linksOf(record, known));
      return {
        known: links,
        onRead: (content) => {
          const list = innerRead.get(name) ?? [];
          list.push(content);
          innerRead.set(name, list);
        },
      };
    },
    write: async (repositories) => {
      await pMap(
        repositories,
        async (name) => {
          try {
            // Inner indexes were read for their children only: their build time too, once, so
            // that their facts are whole should one of them be tagged later.
            for (const content of innerRead.get(name) ?? []) {
              const links = manifestLinks(content.manifest);
              const created = await client.imageCreated(name, content);
              noteRead(name, {
                facts: manifestFacts(content, links, created),
                childIndexes: links.childIndexes ?? [],
              });
            }
            const known = new Set(
              [...(records.get(name) ?? new Map<Digest, LedgerManifest>())]
                .filter(([, record]) => hasFacts(record))
                .map(([digest]) => digest),
            );
            await writeFacts(ledger, name, read.get(name) ?? [], known);
          } catch (error) {
            if (isRunFatal(error)) throw error;
            warn?.(
              `the facts read of ${name}'s manifests were not recorded in the ledger: ${errorMessage(error)}`,
            );
          }
        },
        { concurrency },
      );
    },
  };
}

/** One repository's read of the inventory, guarded: undefined when the repository is unreadable. */
type GuardedRead = <T>(name: string, read: () => Promise<T>) => Promise<T | undefined>;

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

/**
 * Which of the listed tags that did not resolve are dangling (see {@link DanglingTag}) rather than
 * removed since listing. One GET each: on distribution its 404 names the manifest a tag still
 * links to. A tag it names none for either does not exist any more or has lost its link (a tag
 * removal cut short): those still listed on a second look, once per repository, are dangling too.
 */
async function findDangling(
  client: RegistryClient,
  unresolved: ReadonlyArray<{ name: string; tag: string }>,
  concurrency: number,
  guarded: GuardedRead,
): Promise<Map<string, DanglingTag[]>> {
  const found = await pMap(
    unresolved,
    async ({ name, tag }) => ({
      name,
      tag,
      digest: await guarded(name, () => client.danglingRevision(name, tag)),
    }),
    { concurrency },
  );
  const unnamed = [...new Set(found.filter((entry) => !entry.digest).map((entry) => entry.name))];
  const relisted = new Map(
    await pMap(
      unnamed,
      async (name) => [name, new Set((await guarded(name, () => listTags(client, name))) ?? [])] as const,
      { concurrency },
    ),
  );
  const byRepository = new Map<string, DanglingTag[]>();
  for (const { name, tag, digest } of found) {
    if (!digest && !relisted.get(name)?.has(tag)) continue;
    const list = byRepository.get(name) ?? [];
    list.push(digest ? { tag, digest } : { tag });
    byRepository.set(name, list);
  }
  return byRepository;
}

/** Every tag of `repository`, as listed right now (all pages). */
export async function listTags(client: RegistryClient, repository: string): Promise<string[]> {
  const tags: string[] = [];
  for await (const tag of client.tags(repository)) tags.push(tag);
  return tags;
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

function digestKey(repository: string, digest: Digest): string {
  return `${repository}@${digest}`;
}
