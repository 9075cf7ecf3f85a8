import pMap from 'p-map';
import {
  isIndex,
  manifestLinks,
  type Digest,
  type IndexRecord,
  type ManifestLinks,
  type ReferrerRecord,
} from '../domain';
import { referrerSubject } from '../policy';
import { isNotFound, type ManifestContent, type RegistryClient, type ResolvedManifest } from '../registry';

/**
 * How deep regsweep follows indexes that list indexes (real ones nest once or twice: an index of
 * per-platform indexes, an attestation index). An index nested deeper is not read, and what only
 * it lists is not known to be held: a documented bound, not a silent one (README).
 */
export const MAX_INDEX_NESTING = 8;

/** One tag of a repository as the inventory resolved it, with what its manifest links to. */
export interface ResolvedTag {
  readonly tag: string;
  readonly manifest: ResolvedManifest;
  /** Known when the manifest was read (always for an index; for an image when ages are read). */
  readonly links?: ManifestLinks;
}

/**
 * The facts cache's part in {@link readRepositoryGraph}: the links of inner indexes the ledger
 * already knows (they are not read again), and who is told of each inner index read.
 */
export interface GraphFacts {
  readonly known: ReadonlyMap<Digest, ManifestLinks>;
  readonly onRead: (content: ManifestContent) => void;
}

/** What {@link readRepositoryGraph} found beyond the tags themselves. */
export interface RepositoryGraph {
  readonly indexes: IndexRecord[];
  readonly referrers: ReferrerRecord[];
  readonly absentSubjects: Digest[];
}

/**
 * Reads what the tags of one repository reach beyond their own manifests:
 *
 * - **untagged inner indexes**: each index a tagged index lists (at any depth up to
 *   {@link MAX_INDEX_NESTING}) is read once (one GET), cycles ended by a visited set;
 * - **referrers**: the children of an index tagged by the referrers tag schema (`sha256-<hex>`),
 *   read with the other indexes; and, where the registry has the OCI 1.1 referrers API, its
 *   answers. The API is probed once per repository (distribution 2.8.2 and 3.1.1 answer 404: one
 *   request per repository, nothing more). Where it answers, and the inventory did not read every
 *   tagged manifest (no rule needs ages, so images are only HEADed), it is asked once per other
 *   tagged digest: reading each manifest for its `subject` would cost the same GET, and nothing
 *   cheaper says which tags are artifacts. Where ages are read, `subject` comes from the manifests
 *   already read and the API is only probed. The trade-off (README): on a registry with the
 *   API, a plan without ages costs one more request per unique digest;
 * - **absent subjects**: the subject of a referrer tag that no tag reaches is looked up once
 *   (HEAD by digest): a 404 makes the referrer an orphan. Rare: referrers usually name a tag.
 */
export async function readRepositoryGraph(
  client: RegistryClient,
  repository: string,
  tags: readonly ResolvedTag[],
  readsEveryManifest: boolean,
  concurrency: number,
  facts?: GraphFacts,
): Promise<RepositoryGraph> {
  const tagged = new Set(tags.map(({ manifest }) => manifest.digest));
  const links = new Map<Digest, ManifestLinks>();
  for (const { manifest, links: known } of tags) if (known) links.set(manifest.digest, known);

  // Inner indexes, level by level: each read once.
  const indexes: IndexRecord[] = [];
  let frontier = [...new Set([...links.values()].flatMap((known) => known.childIndexes ?? []))].filter(
    (digest) => !links.has(digest),
  );
  for (let depth = 1; depth <= MAX_INDEX_NESTING && frontier.length > 0; depth += 1) {
    for (const digest of frontier) links.set(digest, {}); // visited: a loop ends here
    const read = await pMap(
      frontier,
      async (digest) => ({
        digest,
        found: facts?.known.get(digest) ?? (await readLinks(client, repository, digest, facts?.onRead)),
      }),
      {
        concurrency,
      },
    );
    const next = new Set<Digest>();
    for (const { digest, found } of read) {
      if (!found) continue; // gone since its parent was read: nothing to hold
      links.set(digest, found);
      if (!tagged.has(digest)) indexes.push({ digest, children: found.children ?? [] });
      for (const child of found.childIndexes ?? []) if (!links.has(child)) next.add(child);
    }
    frontier = [...next];
  }

  const referrers: ReferrerRecord[] = [];
  for (const { tag, manifest } of tags) {
    const subject = referrerSubject(tag);
    const children = links.get(manifest.digest)?.children;
    if (subject && children) for (const child of children) referrers.push({ digest: child, subject });
  }
  referrers.push(...(await readReferrersApi(client, repository, tags, readsEveryManifest, concurrency)));

  // Subjects of referrer tags that nothing here reaches: stored untagged, or gone (orphans).
  const reached = new Set<Digest>(tagged);
  for (const known of links.values()) for (const child of known.children ?? []) reached.add(child);
  const subjectOf = new Map(referrers.map((referrer) => [referrer.digest, referrer.subject]));
  const unreached = new Set<Digest>();
  for (const { tag, manifest } of tags) {
    const subject =
      referrerSubject(tag) ?? links.get(manifest.digest)?.subject ?? subjectOf.get(manifest.digest);
    if (subject && !reached.has(subject)) unreached.add(subject);
  }
  const looked = await pMap(
    [...unreached],
    async (subject) => ({ subject, found: await client.resolve(repository, subject) }),
    { concurrency },
  );
  const absentSubjects = looked.filter(({ found }) => found === null).map(({ subject }) => subject);
  return { indexes, referrers, absentSubjects };
}

/** The links of the manifest at `digest`, or undefined when it is gone (404). */
async function readLinks(
  client: RegistryClient,
  repository: string,
  digest: Digest,
  onRead?: (content: ManifestContent) => void,
): Promise<ManifestLinks | undefined> {
  try {
    const content = await client.getManifest(repository, digest);
    onRead?.(content);
    return manifestLinks(content.manifest);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * The referrers the OCI 1.1 referrers API lists for the repository's tagged digests: probed with
 * the first tag's digest; none when the registry has no such API (see {@link readRepositoryGraph}).
 */
async function readReferrersApi(
  client: RegistryClient,
  repository: string,
  tags: readonly ResolvedTag[],
  readsEveryManifest: boolean,
  concurrency: number,
): Promise<ReferrerRecord[]> {
  const digests = [...new Set(tags.map(({ manifest }) => manifest.digest))];
  const [probe, ...rest] = digests;
  if (!probe) return [];
  const first = await client.referrers(repository, probe);
  if (first === null) return [];
  const answers = [{ subject: probe, found: first }];
  if (!readsEveryManifest) {
    answers.push(
      ...(await pMap(
        rest,
        async (subject) => ({ subject, found: (await client.referrers(repository, subject)) ?? [] }),
        {
          concurrency,
        },
      )),
    );
  }
  return answers.flatMap(({ subject, found }) => found.map(({ digest }) => ({ digest, subject })));
}

/**
 * The digests that `holders` (tag → what it resolves to) keep alive, each with the tags holding
 * it: their own digests first, then every manifest their indexes reach, at any depth
 * (`<tag> (through its index)`), since deleting any of them would break a holder. Index children
 * come from `known` (read while planning: digests never change) where given, else from the
 * registry, each index once; cycles end at a visited set, nesting at {@link MAX_INDEX_NESTING}.
 */
export async function heldDigests(
  client: RegistryClient,
  repository: string,
  holders: Iterable<readonly [string, ResolvedManifest]>,
  concurrency: number,
  known?: ReadonlyMap<Digest, readonly Digest[]>,
): Promise<Map<Digest, string[]>> {
  const held = new Map<Digest, Set<string>>();
  const hold = (digest: Digest, by: string): void => {
    const set = held.get(digest);
    if (set) set.add(by);
    else held.set(digest, new Set([by]));
  };
  const holdingIndexes = new Map<Digest, string[]>();
  for (const [tag, manifest] of holders) {
    hold(manifest.digest, tag);
    if (!isIndex(manifest.mediaType)) continue;
    const tags = holdingIndexes.get(manifest.digest);
    if (tags) tags.push(tag);
    else holdingIndexes.set(manifest.digest, [tag]);
  }

  // Every index's children, read level by level; a child is an index when planning read it as
  // one (`known`) or its descriptor says so.
  const children = new Map<Digest, readonly Digest[]>();
  let frontier = [...holdingIndexes.keys()];
  for (let depth = 0; depth <= MAX_INDEX_NESTING && frontier.length > 0; depth += 1) {
    for (const digest of frontier) children.set(digest, []);
    const read = await pMap(
      frontier,
      async (digest): Promise<{ digest: Digest; links: ManifestLinks }> => {
        const fromPlan = known?.get(digest);
        if (fromPlan)
          return {
            digest,
            links: { children: fromPlan, childIndexes: fromPlan.filter((child) => known?.has(child)) },
          };
        return { digest, links: (await readLinks(client, repository, digest)) ?? {} };
      },
      { concurrency },
    );
    const next = new Set<Digest>();
    for (const { digest, links } of read) {
      children.set(digest, links.children ?? []);
      for (const child of links.childIndexes ?? []) if (!children.has(child)) next.add(child);
    }
    frontier = [...next];
  }

  for (const [index, tags] of holdingIndexes) {
    const seen = new Set<Digest>([index]);
    const stack = [...(children.get(index) ?? [])];
    while (stack.length > 0) {
      const digest = stack.pop() as Digest;
      if (seen.has(digest)) continue;
      seen.add(digest);
      for (const tag of tags) hold(digest, `${tag} (through its index)`);
      stack.push(...(children.get(digest) ?? []));
    }
  }
  return new Map([...held].map(([digest, by]) => [digest, [...by]]));
}
