import { isDigest, isImage } from '../domain';
import { MAX_CONFIG_BYTES, RegistryError, type ManifestContent, type RegistryClient } from '../registry';
// The registry module's own rule for an image's age (config `created`, label, annotation).
import { imageCreated } from '../registry/created';

/**
 * When the image whose manifest was just read (by tag) was built. For a single-platform image
 * this reads only the config blob: the manifest is not read a second time by digest, which is
 * what `client.imageCreated` would do. Indexes, schema1 and artifacts take the client's full path.
 */
export async function createdFromManifest(
  client: RegistryClient,
  repository: string,
  manifest: ManifestContent,
): Promise<Date | undefined> {
  const configDigest = (manifest.json.config as { digest?: unknown } | undefined)?.digest;
  if (!isImage(manifest.mediaType) || !isDigest(configDigest)) {
    return client.imageCreated(repository, manifest);
  }
  let config: Record<string, unknown> | undefined;
  try {
    config = parseObject(await client.getBlob(repository, configDigest, MAX_CONFIG_BYTES));
  } catch (error) {
    // A config deleted meanwhile leaves the age unknown, as `client.imageCreated` has it.
    if (!(error instanceof RegistryError && error.statusCode === 404)) throw error;
  }
  return imageCreated(manifest.json, config);
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
