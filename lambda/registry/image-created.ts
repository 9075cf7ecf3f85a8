import pMap from 'p-map';

import { asJsonObject, isImage, isIndex, isSchema1, type Digest } from '../domain';
import { CREATED_ANNOTATION, imageCreated, newestDate, plausibleCreated, schema1Created } from './created';
import { isNotFound } from './errors';
import { readBlob, readManifest } from './manifests';
import type { RegistrySession } from './session';
import type { ManifestContent } from './types';

/** The largest image config regsweep reads (configs with long histories reach a few hundred KiB). */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
/** Children of one index read at once: a multi-platform index has a handful; attestations are skipped. */
export const INDEX_CHILD_CONCURRENCY = 4;
/** Indexes nested deeper than this are not followed (real ones nest at most once). */
const MAX_INDEX_DEPTH = 2;
/** BuildKit marks attestation manifests in an index with this annotation; they carry no build time. */
const REFERENCE_TYPE_ANNOTATION = 'vnd.docker.reference.type';

/**
 * When the manifest at `digest` was built: from its config (image), its history (schema1) or,
 * for an index, the newest of its children. Undefined when unknown; a child or config that
 * vanished meanwhile (404) counts as unknown, any other failure is thrown.
 */
export async function readImageCreated(
  session: RegistrySession,
  repository: string,
  digest: Digest,
  depth = 0,
): Promise<Date | undefined> {
  const manifest = await unlessGone(readManifest(session, repository, digest));
  return manifest ? manifestCreated(session, repository, manifest, depth) : undefined;
}

/**
 * When the image of an already-read manifest was built: only the config (image) or the children
 * (index) are read, not the manifest again.
 */
export async function manifestCreated(
  session: RegistrySession,
  repository: string,
  content: Pick<ManifestContent, 'json' | 'manifest'>,
  depth = 0,
): Promise<Date | undefined> {
  const { manifest } = content;
  const annotated = plausibleCreated(manifest.annotations?.[CREATED_ANNOTATION]);
  if (isIndex(manifest.mediaType)) {
    if (depth >= MAX_INDEX_DEPTH) return annotated;
    const children = manifest.children.filter(
      (child) => child.annotations?.[REFERENCE_TYPE_ANNOTATION] === undefined,
    );
    const dates = await pMap(
      children,
      (child) => readImageCreated(session, repository, child.digest, depth + 1),
      { concurrency: INDEX_CHILD_CONCURRENCY },
    );
    return newestDate(dates) ?? annotated;
  }
  // schema1 keeps its build time in `history`, which no descriptor carries.
  if (isSchema1(manifest.mediaType)) return schema1Created(content.json);
  if (!isImage(manifest.mediaType) && !manifest.config) return annotated;
  let config: Record<string, unknown> | undefined;
  if (manifest.config) {
    const bytes = await unlessGone(readBlob(session, repository, manifest.config.digest, MAX_CONFIG_BYTES));
    config = bytes ? parseObject(bytes) : undefined;
  }
  return imageCreated(manifest, config);
}

async function unlessGone<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** A config that is not a JSON object (an artifact's custom config) simply has no build time. */
function parseObject(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    return asJsonObject(JSON.parse(bytes.toString('utf8')));
  } catch {
    return undefined;
  }
}
