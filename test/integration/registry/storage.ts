import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The manifest digests a repository still holds, read from the registry's filesystem storage:
 * a deleted manifest loses its revision `link` file. This sees what no API call can (a
 * placeholder manifest left behind without a tag).
 */
export function manifestRevisions(storageDir: string, repository: string): string[] {
  const revisions = join(
    storageDir,
    'docker/registry/v2/repositories',
    repository,
    '_manifests/revisions/sha256',
  );
  if (!existsSync(revisions)) return [];
  return readdirSync(revisions)
    .filter((hex) => existsSync(join(revisions, hex, 'link')))
    .map((hex) => `sha256:${hex}`)
    .sort();
}
