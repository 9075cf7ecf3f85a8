import pMap from 'p-map';
import { isIndex, manifestLinks, type Digest, type ManifestLinks } from '../domain';
import type { LedgerManifest, LedgerStore, ManifestFacts } from '../ledger';
import type { ManifestContent, RegistryClient, ResolvedManifest } from '../registry';
import type { GraphFacts } from './index-graph';
import { hasFacts, linksOf, lookUpFacts, manifestFacts, writeFacts } from './ledger';
import { digestKey, errorMessage, isRunFatal, type DigestFacts, type GuardedRead } from './reads';

/** The facts cache at work in one inventory: what the ledger knew, and what was read besides. */
export interface LedgerReads {
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
export async function readThroughLedger(
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
