import type { Descriptor, Platform } from './descriptor';
import { isDigest, type Digest } from './digest';
import { isIndex } from './media-types';

/**
 * A manifest body, parsed once into typed descriptors: what every layer reads instead of raw
 * JSON. Fields the body lacks, or has in a shape the specs do not allow, are absent (an entry
 * without a well-formed digest is dropped, never guessed at), so a hostile or broken manifest
 * yields less, never an exception.
 */
export interface ParsedManifest {
  readonly mediaType: string;
  /** An index's entries (`manifests`), in order; empty for anything else. */
  readonly children: readonly Descriptor[];
  /** The manifest this one refers to (OCI 1.1 `subject`: a signature, SBOM or attestation). */
  readonly subject?: Descriptor;
  /** An image manifest's config blob. */
  readonly config?: Descriptor;
  /** An image manifest's layers, in order. */
  readonly layers: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
  /** OCI 1.1 `artifactType` of an artifact manifest or index. */
  readonly artifactType?: string;
}

/** The value as a plain JSON object, or undefined for arrays, null and primitives. */
export function asJsonObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * Parses a manifest's JSON (already decoded) of the given media type. The media type is the one
 * the registry served; the body's own `mediaType` is used only when that is missing.
 */
export function parseManifest(mediaType: string | undefined, json: unknown): ParsedManifest {
  const body = asJsonObject(json) ?? {};
  const type = mediaType ?? stringField(body, 'mediaType') ?? '';
  const annotations = stringMap(body.annotations);
  const artifactType = stringField(body, 'artifactType');
  const subject = descriptor(body.subject);
  const config = isIndex(type) ? undefined : descriptor(body.config);
  return {
    mediaType: type,
    children: isIndex(type) ? descriptors(body.manifests) : [],
    layers: isIndex(type) ? [] : descriptors(body.layers),
    ...(subject && { subject }),
    ...(config && { config }),
    ...(annotations && { annotations }),
    ...(artifactType !== undefined && { artifactType }),
  };
}

/** The digests an index's entries point at, in order (entries without a valid digest dropped). */
export function childDigests(manifest: ParsedManifest): Digest[] {
  return manifest.children.map((child) => child.digest);
}

/** What a manifest links to: an index's children (and which of them are indexes), a subject. */
export interface ManifestLinks {
  readonly children?: readonly Digest[];
  /** The children whose descriptor says they are indexes themselves. */
  readonly childIndexes?: readonly Digest[];
  /** The manifest's OCI 1.1 `subject`. */
  readonly subject?: Digest;
}

/**
 * What a parsed manifest links to: an index's children (and which of them are indexes, by their
 * descriptors' media types) and any manifest's OCI 1.1 `subject`. `children` is there exactly
 * when the manifest is an index.
 */
export function manifestLinks(manifest: ParsedManifest): ManifestLinks {
  return {
    ...(manifest.subject && { subject: manifest.subject.digest }),
    ...(isIndex(manifest.mediaType) && {
      children: childDigests(manifest),
      childIndexes: manifest.children
        .filter((child) => isIndex(child.mediaType))
        .map((child) => child.digest),
    }),
  };
}

/** One descriptor, or undefined when `value` has no well-formed digest. */
export function descriptor(value: unknown): Descriptor | undefined {
  const entry = asJsonObject(value);
  if (!entry || !isDigest(entry.digest)) return undefined;
  const size =
    typeof entry.size === 'number' && Number.isSafeInteger(entry.size) && entry.size >= 0 ? entry.size : 0;
  const annotations = stringMap(entry.annotations);
  const platform = platformOf(entry.platform);
  return {
    mediaType: typeof entry.mediaType === 'string' ? entry.mediaType : '',
    digest: entry.digest,
    size,
    ...(annotations && { annotations }),
    ...(platform && { platform }),
    ...(typeof entry.artifactType === 'string' && { artifactType: entry.artifactType }),
  };
}

function descriptors(value: unknown): Descriptor[] {
  if (!Array.isArray(value)) return [];
  const found: Descriptor[] = [];
  for (const entry of value) {
    const parsed = descriptor(entry);
    if (parsed) found.push(parsed);
  }
  return found;
}

function platformOf(value: unknown): Platform | undefined {
  const platform = asJsonObject(value);
  if (!platform || typeof platform.architecture !== 'string' || typeof platform.os !== 'string')
    return undefined;
  return {
    architecture: platform.architecture,
    os: platform.os,
    ...(typeof platform.variant === 'string' && { variant: platform.variant }),
  };
}

function stringField(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  return typeof value === 'string' ? value : undefined;
}

/** String-valued entries of an object (annotations); undefined when there are none. */
function stringMap(value: unknown): Record<string, string> | undefined {
  const map = asJsonObject(value);
  if (!map) return undefined;
  const strings: Record<string, string> = {};
  let any = false;
  for (const [key, entry] of Object.entries(map)) {
    if (typeof entry !== 'string') continue;
    strings[key] = entry;
    any = true;
  }
  return any ? strings : undefined;
}
