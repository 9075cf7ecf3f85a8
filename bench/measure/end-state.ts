import pMap from 'p-map';

import { isIndex, MANIFEST_ACCEPT, type Digest, type Plan } from '../../lambda/domain';
import { rawRequest } from '../../tools/raw-http';
import { headDigestRaw, listTagsRaw } from '../../tools/pusher';

/** How a registry's tags compare with what the plan meant to leave. */
export interface EndState {
  /** Tags the plan removes that are gone. */
  readonly removed: number;
  /** Tags the plan removes that are still there. */
  readonly notRemoved: number;
  /** Tags the plan keeps that are gone (taken down with a shared digest). */
  readonly keptLost: number;
  /** Tags the plan keeps that now point at another digest. */
  readonly keptChanged: number;
  /** Index tags still present with at least one platform manifest gone (the image no longer pulls). */
  readonly brokenIndexes: number;
}

const ACCEPT = MANIFEST_ACCEPT.join(', ');

/**
 * Reads the registry with raw requests (no regsweep code) and compares it with the plan made on
 * the same seed: what was removed, what should have been and was not, what should have stayed
 * and did not, and which multi-arch images lost a platform.
 */
export async function checkEndState(registry: string, plan: Plan, concurrency: number): Promise<EndState> {
  const state = { removed: 0, notRemoved: 0, keptLost: 0, keptChanged: 0, brokenIndexes: 0 };
  await pMap(
    plan.repositories,
    async (repository) => {
      const present = new Set(await listTagsRaw(registry, repository.name));
      const indexTags: string[] = [];
      const kept = repository.tags.filter((tag) => tag.action === 'keep');
      for (const tag of repository.tags) {
        if (tag.action !== 'keep') {
          if (present.has(tag.tag)) state.notRemoved += 1;
          else state.removed += 1;
        } else if (!present.has(tag.tag)) {
          state.keptLost += 1;
        }
        if (present.has(tag.tag) && isIndex(tag.mediaType)) indexTags.push(tag.tag);
      }
      await pMap(
        kept.filter((tag) => present.has(tag.tag)),
        async (tag) => {
          const digest = await headDigestRaw(registry, repository.name, tag.tag);
          if (digest !== tag.digest) state.keptChanged += 1;
        },
        { concurrency },
      );
      await pMap(
        indexTags,
        async (tag) => {
          if (await isBroken(registry, repository.name, tag)) state.brokenIndexes += 1;
        },
        { concurrency },
      );
    },
    { concurrency: 1 },
  );
  return state;
}

async function isBroken(registry: string, repository: string, tag: string): Promise<boolean> {
  const response = await rawRequest(`${registry}/v2/${repository}/manifests/${tag}`, {
    headers: { accept: ACCEPT },
  });
  if (response.status !== 200) return true;
  const index = JSON.parse(response.body.toString()) as { manifests?: Array<{ digest: Digest }> };
  for (const child of index.manifests ?? []) {
    if ((await headDigestRaw(registry, repository, child.digest)) === undefined) return true;
  }
  return false;
}
