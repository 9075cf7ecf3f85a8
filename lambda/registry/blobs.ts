import type { Digest } from '../domain';
import { repositoryScope } from './auth';
import { responseError } from './errors';
import type { RegistrySession } from './session';

/**
 * Whether the repository has the blob: HEAD, 200 yes, 404 no (never pushed, not mounted, or
 * removed by garbage collection); any other answer is an error.
 */
export async function blobExists(
  session: RegistrySession,
  repository: string,
  digest: Digest,
): Promise<boolean> {
  const what = `blob ${repository}@${digest}`;
  const response = await session.send({
    method: 'HEAD',
    url: `${session.origin}/v2/${repository}/blobs/${digest}`,
    kind: 'head-blob',
    scopes: [repositoryScope(repository, 'pull')],
    what,
  });
  if (response.status === 200) return true;
  if (response.status === 404) return false;
  throw responseError(response, 'HEAD', `checking ${what}`);
}
