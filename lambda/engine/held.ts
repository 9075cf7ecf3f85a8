import pMap from 'p-map';
import type { Digest } from '../domain';
import type { RegistryClient, ResolvedManifest } from '../registry';

/**
 * A tag a notification said was pushed, at this digest. The registry notifies before it links the
 * tag, so until the tag resolves to the digest nothing else may be holding it: a sweep given these
 * holds each digest whose tag does not resolve to it yet (and, for an index, what it reaches) as if
 * the tag were already linked. Once it resolves, the tag holds it as any tag does.
 */
export interface HeldPush {
  readonly tag: string;
  readonly digest: Digest;
}

/** How a held push is named in a skipped removal's reason. */
export function heldPushLabel(push: HeldPush): string {
  return `${push.tag} (pushed at ${push.digest}; held until the tag resolves to it)`;
}

/**
 * The held pushes as holders for the re-verification: each digest's manifest as the registry has
 * it (so an index's children are held too), or, while the registry does not serve it yet, the
 * digest alone (it is then held without children).
 */
export async function heldPushHolders(
  client: RegistryClient,
  repository: string,
  pushes: readonly HeldPush[],
  concurrency: number,
): Promise<Array<readonly [string, ResolvedManifest]>> {
  return pMap(
    pushes,
    async (push) => {
      const manifest = await client.resolve(repository, push.digest);
      return [heldPushLabel(push), manifest ?? { digest: push.digest, mediaType: '' }] as const;
    },
    { concurrency },
  );
}

/**
 * The pushes whose tag does not (yet) resolve to the pushed digest: their digests must stay held,
 * and the repository be looked at again. A tag that resolves elsewhere may have been pushed again
 * since (a later notification then names the new digest) or not be linked yet: the two look the
 * same from outside, so both are still pending.
 */
export async function unlinkedPushes(
  client: RegistryClient,
  repository: string,
  pushes: readonly HeldPush[],
  concurrency: number,
): Promise<HeldPush[]> {
  const linked = await pMap(
    pushes,
    async (push) => (await client.resolve(repository, push.tag))?.digest === push.digest,
    { concurrency },
  );
  return pushes.filter((_push, index) => !linked[index]);
}
