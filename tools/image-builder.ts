import { createHash } from 'node:crypto';

import { MediaType, sha256Digest, type Descriptor, type Digest } from '../lambda/domain';

/** What a pushed image looks like in the registry. */
export type ImageKind = 'docker' | 'oci' | 'oci-index' | 'docker-list';

/** A blob to upload: its digest is always sha256 of `bytes`. */
export interface Blob {
  digest: Digest;
  bytes: Buffer;
}

/** One single-platform manifest with the blobs it needs. */
export interface BuiltImage {
  mediaType: string;
  manifest: Buffer;
  digest: Digest;
  blobs: Blob[];
}

/** What goes into one image's config blob. */
export interface ImageContent {
  seed: string;
  /** ISO timestamp, or null to leave `created` out. */
  created: string | null;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  layerBytes: number;
  platform: { os: string; architecture: string; variant?: string };
}

/** @default layer size when none is asked for: a few bytes keep seeding fast. */
export const DEFAULT_LAYER_BYTES = 16;
/** @default platforms of an index. */
export const DEFAULT_INDEX_PLATFORMS = ['linux/amd64', 'linux/arm64'];

const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

const layerCache = new Map<number, Blob>();

/**
 * The layer blob of a given size. It depends on the size only, so every image of that size
 * shares it and it is uploaded once per repository. The registry never unpacks layers, so the
 * bytes need not be a real tarball.
 */
export function sharedLayer(sizeBytes: number): Blob {
  const cached = layerCache.get(sizeBytes);
  if (cached) return cached;
  const chunks: Buffer[] = [];
  let length = 0;
  for (let counter = 0; length < sizeBytes; counter += 1) {
    const chunk = createHash('sha256').update(`regsweep-layer-${sizeBytes}-${counter}`).digest();
    chunks.push(chunk);
    length += chunk.length;
  }
  const bytes = Buffer.concat(chunks).subarray(0, sizeBytes);
  const layer = { digest: sha256Digest(bytes), bytes };
  layerCache.set(sizeBytes, layer);
  return layer;
}

/** Parses `os/architecture[/variant]`. */
export function parsePlatform(text: string): { os: string; architecture: string; variant?: string } {
  const [os, architecture, variant] = text.split('/');
  if (!os || !architecture) throw new Error(`platform '${text}' is not os/architecture[/variant]`);
  return { os, architecture, ...(variant && { variant }) };
}

/** A single-platform image: config blob (unique per seed and content) plus the shared layer. */
export function buildImage(format: 'docker' | 'oci', content: ImageContent): BuiltImage {
  const layer = sharedLayer(content.layerBytes);
  const config = Buffer.from(
    JSON.stringify({
      ...(content.created !== null && { created: content.created }),
      architecture: content.platform.architecture,
      os: content.platform.os,
      ...(content.platform.variant && { variant: content.platform.variant }),
      // The seed lives in Env so that Labels stay exactly what the caller asked for.
      config: { Env: [`REGSWEEP_SEED=${content.seed}`], ...(content.labels && { Labels: content.labels }) },
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
    }),
  );
  const configBlob = { digest: sha256Digest(config), bytes: config };
  const docker = format === 'docker';
  const mediaType = docker ? MediaType.DockerManifest : MediaType.OciManifest;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: {
        mediaType: docker ? MediaType.DockerConfig : MediaType.OciConfig,
        digest: configBlob.digest,
        size: config.length,
      },
      layers: [
        { mediaType: docker ? DOCKER_LAYER : OCI_LAYER, digest: layer.digest, size: layer.bytes.length },
      ],
      ...(content.annotations && { annotations: content.annotations }),
    }),
  );
  return { mediaType, manifest, digest: sha256Digest(manifest), blobs: [configBlob, layer] };
}

/** An index (OCI) or manifest list (Docker) over already built children. */
export function buildIndex(
  format: 'oci-index' | 'docker-list',
  children: ReadonlyArray<{ image: BuiltImage; platform: string }>,
  annotations?: Record<string, string>,
): { mediaType: string; manifest: Buffer; digest: Digest } {
  const mediaType = format === 'oci-index' ? MediaType.OciIndex : MediaType.DockerManifestList;
  const manifests: Descriptor[] = children.map(({ image, platform }) => ({
    mediaType: image.mediaType,
    digest: image.digest,
    size: image.manifest.length,
    platform: parsePlatform(platform),
  }));
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType, manifests, ...(annotations && { annotations }) }),
  );
  return { mediaType, manifest, digest: sha256Digest(manifest) };
}
