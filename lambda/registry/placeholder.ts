import { randomBytes } from 'node:crypto';

import { MediaType, type Descriptor } from '../domain';

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
