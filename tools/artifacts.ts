import { MANIFEST_ACCEPT, MediaType, sha256Digest, type Descriptor, type Digest } from '../lambda/domain';
import { buildImage, DEFAULT_LAYER_BYTES, parsePlatform } from './image-builder';
import { pushBlobs, putManifestBytes } from './pusher';
import { rawRequest, RawHttpError, type RawAuth } from './raw-http';

/*
 * OCI 1.1 shapes the pusher does not build: artifacts (SBOMs, signatures) whose manifest carries
 * a `subject`, indexes over any descriptors (nested indexes, referrer indexes of the referrers
 * tag schema), and the descriptor of something already pushed. Raw HTTP only, like the pusher.
 */

/** The OCI empty config `{}`: what artifacts without a config of their own point at. */
const EMPTY_CONFIG = Buffer.from('{}');

/** A descriptor, with the OCI 1.1 `artifactType` of an artifact. */
export type ArtifactDescriptor = Descriptor & { readonly artifactType?: string };

/** What a manifest or index in the registry is, as a descriptor (HEAD, full Accept list). */
export async function describeManifest(
  registryUrl: string,
  repository: string,
  reference: string,
  auth?: RawAuth,
): Promise<Descriptor> {
  const response = await rawRequest(`${registryUrl}/v2/${repository}/manifests/${reference}`, {
    method: 'HEAD',
    headers: { accept: MANIFEST_ACCEPT.join(', ') },
    auth,
  });
  const digest = response.headers['docker-content-digest'];
  const mediaType = response.headers['content-type'];
  if (response.status !== 200 || !digest || !mediaType)
    throw new RawHttpError(`HEAD manifest ${repository}:${reference}`, response.status, '');
  return { mediaType, digest: digest as Digest, size: Number(response.headers['content-length']) };
}

/** Options of {@link pushArtifact}. */
export interface ArtifactOptions {
  /** The image the artifact belongs to: its manifest's `subject`. */
  subject?: Descriptor;
  /** @default 'application/spdx+json' */
  artifactType?: string;
  /** The one layer's content: what makes the artifact unique. */
  payload: string;
}

/**
 * Pushes an OCI 1.1 artifact manifest (empty config, one layer, `artifactType`, `subject`) under
 * `reference` (a tag, or its own digest to leave it untagged) and returns its descriptor.
 */
export async function pushArtifact(
  registryUrl: string,
  repository: string,
  reference: string | undefined,
  options: ArtifactOptions,
  auth?: RawAuth,
): Promise<ArtifactDescriptor> {
  const layer = Buffer.from(options.payload);
  const configBlob = { digest: sha256Digest(EMPTY_CONFIG), bytes: EMPTY_CONFIG };
  const layerBlob = { digest: sha256Digest(layer), bytes: layer };
  await pushBlobs(registryUrl, repository, [configBlob, layerBlob], auth);
  const artifactType = options.artifactType ?? 'application/spdx+json';
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType,
      config: { mediaType: MediaType.OciEmpty, digest: configBlob.digest, size: EMPTY_CONFIG.length },
      layers: [{ mediaType: artifactType, digest: layerBlob.digest, size: layer.length }],
      ...(options.subject && { subject: options.subject }),
    }),
  );
  const digest = sha256Digest(manifest);
  await putManifestBytes(registryUrl, repository, reference ?? digest, MediaType.OciManifest, manifest, auth);
  return { mediaType: MediaType.OciManifest, digest, size: manifest.length, artifactType };
}

/**
 * Pushes an OCI index over `manifests` (which must be in the repository already) under
 * `reference` (a tag, or undefined: untagged, by its own digest) and returns its descriptor.
 */
export async function pushIndexOf(
  registryUrl: string,
  repository: string,
  reference: string | undefined,
  manifests: readonly ArtifactDescriptor[],
  annotations?: Record<string, string>,
  auth?: RawAuth,
): Promise<Descriptor> {
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: manifests.map(({ mediaType, digest, size, platform, annotations: entry, artifactType }) => ({
        mediaType,
        digest,
        size,
        ...(artifactType && { artifactType }),
        ...(platform && { platform }),
        ...(entry && { annotations: entry }),
      })),
      ...(annotations && { annotations }),
    }),
  );
  const digest = sha256Digest(index);
  await putManifestBytes(registryUrl, repository, reference ?? digest, MediaType.OciIndex, index, auth);
  return { mediaType: MediaType.OciIndex, digest, size: index.length };
}

/**
 * Pushes a single-platform OCI image under its own digest only (untagged, as the platform
 * manifests of a multi-arch image are) and returns its descriptor with `platform`.
 */
export async function pushUntaggedImage(
  registryUrl: string,
  repository: string,
  seed: string,
  platform: string,
  auth?: RawAuth,
): Promise<Descriptor> {
  const image = buildImage('oci', {
    seed,
    created: new Date().toISOString(),
    layerBytes: DEFAULT_LAYER_BYTES,
    platform: parsePlatform(platform),
  });
  await pushBlobs(registryUrl, repository, image.blobs, auth);
  await putManifestBytes(registryUrl, repository, image.digest, image.mediaType, image.manifest, auth);
  return {
    mediaType: image.mediaType,
    digest: image.digest,
    size: image.manifest.length,
    platform: parsePlatform(platform),
  };
}

/** The referrers tag schema's tag for `subject`: `sha256-<hex>`. */
export function referrersTagOf(subject: Digest): string {
  return subject.replace(':', '-');
}
