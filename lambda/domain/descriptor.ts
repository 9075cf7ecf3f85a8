import type { Digest } from './digest';

/** The platform an index entry is built for. */
export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
}

/** A content descriptor: what a manifest, index entry or blob reference says about its target. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: Platform;
  /** OCI 1.1: the artifact type of the target (a referrers answer lists it per entry). */
  readonly artifactType?: string;
}
