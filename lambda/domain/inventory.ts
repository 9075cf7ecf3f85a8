import type { Digest } from './digest';

/** One tag as found in the registry: what it resolves to right now. */
export interface TagRecord {
  readonly tag: string;
  readonly digest: Digest;
  readonly mediaType: string;
  /**
   * When the image was built: the config's `created`, else the `org.opencontainers.image.created`
   * label or annotation; for an index, the newest of its children. Undefined when unknown
   * (missing, unparsable, or the 1970 epoch of reproducible builds): an unknown age is never "old".
   */
  readonly created?: Date;
  /**
   * For an index: the digests of the manifests it points at. Deleting one of them would break the
   * index, so a child of a kept index is held just like a kept tag's digest.
   */
  readonly children?: readonly Digest[];
  /**
   * The manifest's `subject` (OCI 1.1): the tag names an artifact (SBOM, signature, attestation)
   * that belongs to that image. Known only where the manifest was read (a GET: ages, indexes);
   * such a tag follows its subject and never counts as a build.
   */
  readonly subject?: Digest;
  /**
   * From the ledger: the last time a notification said this tag was pushed. Undefined when no
   * ledger is used or it never saw the tag pushed (an invalid Date or the 1970 epoch count as
   * unknown too). `order: pushed` ranks by it; an unknown `created` falls back to it.
   */
  readonly pushedAt?: Date;
  /**
   * From the ledger: the last pull of this tag's digest by a client (regsweep's own reads and
   * `ledger.ignorePullsFrom` agents are not use). Undefined when unknown; `keepPulledWithin`
   * reads it.
   */
  readonly pulledAt?: Date;
}

/**
 * A tag that is listed but whose manifest is gone, as a digest DELETE that failed halfway leaves
 * it (distribution deletes the manifest, then its tags): nothing can pull it, and removing it
 * finishes that delete.
 */
export interface DanglingTag {
  readonly tag: string;
  /**
   * The manifest the tag still links to, as the registry reports it; absent when it names none
   * (distribution does not for a tag whose link is gone too).
   */
  readonly digest?: Digest;
}

/** An index no tag names, reached through a tagged index (an index may list indexes). */
export interface IndexRecord {
  readonly digest: Digest;
  /** The digests of the manifests it points at. */
  readonly children: readonly Digest[];
}

/** An artifact known to refer to a subject: from a referrer index, or the referrers API. */
export interface ReferrerRecord {
  /** The artifact's manifest digest. */
  readonly digest: Digest;
  /** The manifest it refers to (its `subject`). */
  readonly subject: Digest;
}

/** The tags of one repository. */
export interface RepositoryInventory {
  readonly name: string;
  readonly tags: readonly TagRecord[];
  /** Listed tags whose manifest is gone; none when absent. */
  readonly dangling?: readonly DanglingTag[];
  /**
   * Untagged indexes reached through tagged ones, at any depth (bounded), with their children:
   * a digest a kept tag reaches through them is held just like the kept tag's own.
   */
  readonly indexes?: readonly IndexRecord[];
  /**
   * Artifacts known to refer to a subject (the children of a referrers-tag-schema index
   * `sha256-<hex>`, or the referrers API's answers): a tag on such an artifact follows its subject.
   */
  readonly referrers?: readonly ReferrerRecord[];
  /**
   * Subjects of referrer tags that no tag reaches and that the registry says it does not have
   * (HEAD by digest: 404): those referrers are orphans. A subject not listed here, and reached by
   * no tag, may still be stored untagged: its referrers stay.
   */
  readonly absentSubjects?: readonly Digest[];
}

/** What the planner sees: every tag of every repository in scope, with digest and age. */
export interface Inventory {
  /** The registry base URL, e.g. `http://127.0.0.1:5000`. */
  readonly registry: string;
  readonly repositories: readonly RepositoryInventory[];
}
