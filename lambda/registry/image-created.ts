import pMap from 'p-map';

import { isDigest, isImage, isIndex, isSchema1, type Digest } from '../domain';
import { CREATED_ANNOTATION, imageCreated, newestDate, plausibleCreated, schema1Created } from './created';
import { isNotFound } from './errors';
import { readBlob, readManifest } from './manifests';
import type { RegistrySession } from './session';

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
  manifest: { readonly json: Record<string, unknown>; readonly mediaType: string },
  depth = 0,
): Promise<Date | undefined> {
  const { json, mediaType } = manifest;
  const annotated = plausibleCreated(
    (json.annotations as Record<string, unknown> | undefined)?.[CREATED_ANNOTATION],
  );
  if (isIndex(mediaType)) {
    if (depth >= MAX_INDEX_DEPTH) return annotated;
    const children = (Array.isArray(json.manifests) ? json.manifests : []).filter(
      (child): child is { digest: Digest; mediaType?: string; annotations?: Record<string, unknown> } =>
        typeof child === 'object' &&
        child !== null &&
        isDigest((child as { digest?: unknown }).digest) &&
        (child as { annotations?: Record<string, unknown> }).annotations?.[REFERENCE_TYPE_ANNOTATION] ===
          undefined,
    );
    const dates = await pMap(
      children,
      (child) => readImageCreated(session, repository, child.digest, depth + 1),
      { concurrency: INDEX_CHILD_CONCURRENCY },
    );
    return newestDate(dates) ?? annotated;
  }
  if (isSchema1(mediaType)) return schema1Created(json);
  const config = json.config as { digest?: unknown } | undefined;
  if (!isImage(mediaType) && !isDigest(config?.digest)) return annotated;
  let configJson: Record<string, unknown> | undefined;
  if (isDigest(config?.digest)) {
    const bytes = await unlessGone(readBlob(session, repository, config.digest, MAX_CONFIG_BYTES));
    configJson = bytes ? parseObject(bytes) : undefined;
  }
  return imageCreated(json, configJson);
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
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
