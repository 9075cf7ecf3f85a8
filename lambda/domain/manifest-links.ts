import { isDigest, type Digest } from './digest';
import { isIndex } from './media-types';

/** What a manifest links to: an index's children (and which of them are indexes), a subject. */
export interface ManifestLinks {
  readonly children?: readonly Digest[];
  /** The children whose descriptor says they are indexes themselves. */
  readonly childIndexes?: readonly Digest[];
  /** The manifest's OCI 1.1 `subject`. */
  readonly subject?: Digest;
}

/**
 * What a manifest's JSON says it links to, parsed once: an index's children (and which of them
 * are indexes, by their descriptors' media types) and any manifest's OCI 1.1 `subject`.
 * Malformed entries are skipped.
 */
export function manifestLinks(json: Record<string, unknown>, mediaType: string): ManifestLinks {
  const subject = (json.subject as { digest?: unknown } | null | undefined)?.digest;
  const links: { children?: Digest[]; childIndexes?: Digest[]; subject?: Digest } = {};
  if (isDigest(subject)) links.subject = subject;
  if (isIndex(mediaType)) {
    const children: Digest[] = [];
    const childIndexes: Digest[] = [];
    for (const entry of Array.isArray(json.manifests) ? (json.manifests as unknown[]) : []) {
      const { digest, mediaType: childType } = (entry ?? {}) as { digest?: unknown; mediaType?: unknown };
      if (!isDigest(digest)) continue;
      children.push(digest);
      if (typeof childType === 'string' && isIndex(childType)) childIndexes.push(digest);
    }
    links.children = children;
    links.childIndexes = childIndexes;
  }
  return links;
}
