import { randomBytes } from 'node:crypto';

import { isTag, MediaType, type Descriptor } from '../domain';
import type { ManifestContent } from './types';

/** The annotation that makes each placeholder manifest unique (and says who wrote it). */
export const PLACEHOLDER_ANNOTATION = 'io.regsweep.placeholder';

/** The OCI "empty" blob `{}`: the config of an artifact that has none. */
export const EMPTY_BLOB = Buffer.from('{}');
export const EMPTY_DESCRIPTOR: Descriptor = {
  mediaType: MediaType.OciEmpty,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
};

/**
 * A tiny OCI image manifest, unique to this call, for re-pointing a tag before deleting it on
 * registries that cannot delete a tag alone. Unique, because deleting a digest removes every tag
 * on it: no other tag may ever share the placeholder's digest. No layers; the config is the
 * empty blob, which must exist in the repository before the manifest is pushed.
 */
export function placeholderManifest(tag: string): Buffer {
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: EMPTY_DESCRIPTOR,
    layers: [],
    annotations: { [PLACEHOLDER_ANNOTATION]: `${tag}-${randomBytes(12).toString('hex')}` },
  };
  return Buffer.from(JSON.stringify(manifest));
}

/** The size in bytes of every placeholder manifest for `tag` (its random part has a fixed length). */
export function placeholderSize(tag: string): number {
  return placeholderManifest(tag).length;
}

/**
 * True when `content` is a placeholder regsweep pushed to untag `tag`. A tag found pointing at
 * one was being untagged when its run stopped (killed, or the registry went away) before the
 * placeholder was deleted.
 */
export function isPlaceholderFor(content: ManifestContent, tag: string): boolean {
  if (content.mediaType !== MediaType.OciManifest || !isTag(tag)) return false;
  const { annotations, config, layers } = content.json as {
    annotations?: Record<string, unknown>;
    config?: { digest?: unknown };
    layers?: unknown;
  };
  const annotation = annotations?.[PLACEHOLDER_ANNOTATION];
  return (
    typeof annotation === 'string' &&
    annotation.startsWith(`${tag}-`) &&
    config?.digest === EMPTY_DESCRIPTOR.digest &&
    Array.isArray(layers) &&
    layers.length === 0
  );
}
