import { request } from 'node:http';

import pMap from 'p-map';

import { MANIFEST_ACCEPT, type Plan } from '../../lambda/domain';
import { elapsedMs } from '../stats';

/** The workers registry-cli ran with in the measurements of issue 14 (4 threads). */
export const REGISTRY_CLI_WORKERS = 4;

/** What the registry-cli-shaped loop did. */
export interface RegistryCliShapedRun {
  /** Removed tags it worked through (the plan's `delete` and `untag`). */
  readonly tags: number;
  readonly wallMs: number;
  /** HTTP requests sent: one HEAD and at most one DELETE per tag. */
  readonly requests: number;
  /** DELETE answered 202. */
  readonly accepted: number;
  /** DELETE answered 404: the digest went already with another tag on it. */
  readonly alreadyGone: number;
  /** The HEAD gave no digest, or the DELETE answered anything else. */
  readonly failed: number;
}

/**
 * Sends exactly the requests the popular Python cleaner (registry-cli) sends to remove tags:
 * per tag a HEAD of the manifest for its digest, then a DELETE of that digest, on
 * {@link REGISTRY_CLI_WORKERS} workers, each request on a new TCP connection (no keep-alive), no
 * re-reading of the repository and no digest safety beyond its kept list. It is regsweep's
 * side-by-side baseline for speed only: it deletes a digest whatever else holds it.
 */
export async function runRegistryCliShaped(registry: string, plan: Plan): Promise<RegistryCliShapedRun> {
  const work = plan.repositories.flatMap((repository) =>
    repository.tags
      .filter((tag) => tag.action !== 'keep')
      .map((tag) => ({ repository: repository.name, tag: tag.tag })),
  );
  let requests = 0;
  let accepted = 0;
  let alreadyGone = 0;
  let failed = 0;
  const started = performance.now();
  await pMap(
    work,
    async ({ repository, tag }) => {
      requests += 1;
      const head = await send('HEAD', `${registry}/v2/${repository}/manifests/${tag}`, {
        accept: MANIFEST_ACCEPT.join(', '),
      });
      const digest = head.headers['docker-content-digest'];
      if (head.status !== 200 || typeof digest !== 'string') {
        failed += 1;
        return;
      }
      requests += 1;
      const removal = await send('DELETE', `${registry}/v2/${repository}/manifests/${digest}`, {});
      if (removal.status === 202) accepted += 1;
      else if (removal.status === 404) alreadyGone += 1;
      else failed += 1;
    },
    { concurrency: REGISTRY_CLI_WORKERS },
  );
  return { tags: work.length, wallMs: elapsedMs(started), requests, accepted, alreadyGone, failed };
}

/** One request on its own connection (`agent: false`: no pooling, the socket closes after). */
function send(
  method: string,
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method, headers: { ...headers, connection: 'close' }, agent: false },
      (answer) => {
        answer.resume();
        answer.on('end', () => resolve({ status: answer.statusCode ?? 0, headers: answer.headers }));
        answer.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}
