import pMap from 'p-map';
import type { DanglingTag, RepositoryPlan } from '../domain';
import type { RegistryClient } from '../registry';
import { isRunFatal, listTags, type GuardedRead } from './reads';
import { markFailed, skipChanged } from './outcomes';

/*
 * Dangling tags (listed, but pointing at nothing: distribution 2.x leaves them when a digest DELETE
 * fails half-way): found while taking the inventory, cleared after a repository's removals.
 */

/**
 * Which of the listed tags that did not resolve are dangling (see {@link DanglingTag}) rather than
 * removed since listing. One GET each: on distribution its 404 names the manifest a tag still
 * links to. A tag it names none for either does not exist any more or has lost its link (a tag
 * removal cut short): those still listed on a second look, once per repository, are dangling too.
 */
export async function findDangling(
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

/**
 * Checks the repository's removals against a fresh tag list, and clears its dangling tags: those
 * planned as such, and those this sweep's removals left. A tag reported removed that is still
 * listed and still resolves at its planned digest was not removed, whatever the registry answered:
 * it is `failed`. distribution 2.x deletes a manifest before it removes the tags on it: a DELETE
 * that fails in between (a 500 when a push rewrites one of the repository's tag links at that
 * moment, or the registry stopping mid-request) leaves the digest's tags listed but pointing at
 * nothing. So after a repository's removals its tags are listed once more; a tag this sweep
 * removed, or failed to remove, that is still listed but no longer resolves is cleared with an
 * untag and reported done. One tag list per repository, and one HEAD per removed tag still listed:
 * none when nothing is left over. Returns how many removals this turned from failed (or not yet
 * done) into done.
 */
export async function clearDanglingTags(client: RegistryClient, repository: RepositoryPlan): Promise<number> {
  const name = repository.name;
  const planned = repository.tags.filter((tag) => tag.dangling && tag.action === 'untag');
  const attempted = repository.tags.filter(
    (tag) =>
      !tag.dangling && (tag.result === 'deleted' || tag.result === 'untagged' || tag.result === 'failed'),
  );
  if (planned.length === 0 && attempted.length === 0) return 0;
  let listed = new Set(await listTags(client, name));
  let completed = 0;
  for (const tag of [...planned, ...attempted]) {
    // Not listed: gone. Listed: null when it dangles (resolves to nothing).
    const now = listed.has(tag.tag) ? await client.resolve(name, tag.tag) : undefined;
    if (now !== null) {
      // Planned: removed, or pushed again, since planning. Otherwise: gone, or still resolving:
      // pushed again since (another digest), or not removed at all (the planned digest).
      if (tag.dangling)
        skipChanged(tag, listed.has(tag.tag) ? 'the tag was pushed again' : 'the tag no longer exists');
      else if (now?.digest === tag.digest && tag.result !== 'failed')
        // (`removed` is left as it was: counting too many only ever reports the run as interrupted.)
        markFailed(
          tag,
          `the registry accepted the removal, yet the tag is still listed and resolves at ${tag.digest}`,
        );
      else if (now && tag.result === 'deleted')
        // Pushed again elsewhere before its old digest went: the tag stays, at its new digest.
        skipChanged(tag, `the tag now points at ${now.digest}`);
      continue;
    }
    const left = 'the manifest was gone but the tag still listed, pointing at nothing';
    let failure: unknown;
    // Clearing writes to the repository too, and can meet the same race: while the tag still
    // dangles, up to CLEARING_ROUNDS untags.
    for (let round = 1; round <= CLEARING_ROUNDS; round += 1) {
      try {
        await client.untag(name, tag.tag);
        failure = undefined;
        break;
      } catch (error) {
        if (isRunFatal(error)) throw error;
        failure = error;
      }
      listed = new Set(await listTags(client, name));
      if (!(await dangles(client, name, tag.tag, listed))) {
        // Gone after all, or left pointing at the placeholder (the error says which to delete).
        if (!listed.has(tag.tag)) failure = undefined;
        break;
      }
    }
    if (failure !== undefined) {
      markFailed(tag, failure, tag.dangling ? undefined : `${left}, and clearing it failed`);
      continue;
    }
    if (tag.dangling) {
      completed += 1;
    } else if (tag.result === 'failed') {
      completed += 1;
      tag.reason = `${tag.reason}; the registry answered an error (${tag.error ?? 'unknown'}), yet ${left}: cleared`;
      delete tag.error;
    } else {
      tag.reason = `${tag.reason}; ${left}: cleared`;
    }
    tag.result = tag.action === 'untag' ? 'untagged' : 'deleted';
  }
  return completed;
}

/**
 * How many untags {@link clearDanglingTags} tries on one tag that keeps dangling. Each can meet the
 * same 2.x race that left the tag (a tag link rewritten while the placeholder's DELETE walks the
 * tags): with four tags rewritten non-stop, three rounds were seen to fail in a row on a loaded
 * CI machine; six make that vanishingly rare, and what is still left is `failed` (a rerun clears it).
 */
const CLEARING_ROUNDS = 6;

/** Whether `tag` is listed but resolves to nothing. */
async function dangles(
  client: RegistryClient,
  repository: string,
  tag: string,
  listed: ReadonlySet<string>,
): Promise<boolean> {
  return listed.has(tag) && (await client.resolve(repository, tag)) === null;
}
