import { createHash } from 'node:crypto';

import type { ImageKind } from '../../tools/image-builder';

/**
 * The bench's registry content, decided up front and deterministic: R repositories of T tags
 * shaped like a busy CI registry (branch builds per stream, pull-request builds, nightlies,
 * releases), mostly unique digests, some tags sharing a digest, some multi-arch indexes and OCI
 * images. With {@link BENCH_POLICY} about 80% of the tags go.
 */

const DAY_MS = 86_400_000;

/** One tag to push: either its own image (`image`) or another tag's digest (`aliasOf`). */
export interface SeedTag {
  readonly tag: string;
  readonly kind: ImageKind;
  /** Same seed = same bytes = same digest. */
  readonly seed: string;
  /** Build time, as days before the seed time (distinct per image, never near 7 d). */
  readonly ageDays: number;
  /** The tag whose digest this tag shares (pushed after it). */
  readonly aliasOf?: string;
}

export interface SeedRepository {
  readonly name: string;
  readonly tags: readonly SeedTag[];
}

/**
 * The policy: protected releases and `latest`; branch builds keep 3 newest per stream (by the
 * image's `created`, so config blobs are read); pull-request builds go after 7 days; nightlies
 * match no rule and stay.
 */
export const BENCH_POLICY = {
  protect: ['latest', 'v\\d+\\.\\d+\\.\\d+'],
  rules: [
    {
      name: 'branch-builds',
      repositories: ['bench/**'],
      tags: '(main|develop|feature-[a-z]+)-[0-9a-f]{7}',
      groupBy: '(.+)-[0-9a-f]{7}',
      order: 'created',
      keep: 3,
    },
    { name: 'pull-requests', repositories: ['bench/**'], tags: 'pr-\\d+-[0-9a-f]{7}', olderThan: '7d' },
  ],
} as const;

/** Branch streams and their share of the branch builds. */
const STREAMS: ReadonlyArray<readonly [string, number]> = [
  ['main', 0.5],
  ['develop', 0.3],
  ['feature-alpha', 0.1],
  ['feature-beta', 0.1],
];
/** Oldest build in the registry. */
const SPAN_DAYS = 60;

function shortHex(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 7);
}

/**
 * The tags of one repository. Shares of `tagCount`: 4 protected tags (2 aliasing old main builds,
 * which the plan turns into `untag`; `latest` on the newest main build), 6% nightlies, 30%
 * pull-request builds (one in ten re-tagging a branch build's digest), the rest branch builds.
 * Every 25th branch build is a multi-arch index (OCI index / Docker list, 2 platforms); every
 * 10th other image is an OCI manifest, the rest Docker schema2.
 */
export function seedRepository(name: string, tagCount: number): SeedRepository {
  const tags: SeedTag[] = [];
  const nightlies = Math.max(1, Math.round(tagCount * 0.06));
  const pullRequests = Math.max(2, Math.round(tagCount * 0.3));
  const branchBuilds = Math.max(STREAMS.length * 4, tagCount - 4 - nightlies - pullRequests);
  let imageCount = 0;
  const kindOf = (ordinal: number): ImageKind => {
    imageCount += 1;
    if (ordinal % 25 === 12) return ordinal % 50 === 12 ? 'oci-index' : 'docker-list';
    return imageCount % 10 === 0 ? 'oci' : 'docker';
  };

  const counts = STREAMS.map(([, share]) => Math.max(1, Math.floor(branchBuilds * share)));
  // The rounding remainder goes to main, so the repository has exactly `tagCount` tags.
  counts[0] = (counts[0] as number) + branchBuilds - counts.reduce((sum, count) => sum + count, 0);
  const branch: SeedTag[] = [];
  let ordinal = 0;
  for (const [position, [stream]] of STREAMS.entries()) {
    const count = counts[position] as number;
    for (let build = 0; build < count; build += 1, ordinal += 1) {
      // Oldest first; the newest is a few hours old.
      const ageDays = SPAN_DAYS * (1 - build / count) + 0.1 + (ordinal % 7) / 1000;
      const tag = `${stream}-${shortHex(`${name}/${stream}/${build}`)}`;
      branch.push({ tag, kind: kindOf(ordinal), seed: `${name}:${tag}`, ageDays });
    }
  }
  tags.push(...branch);

  const main = branch.filter((entry) => entry.tag.startsWith('main-'));
  const newestMain = main[main.length - 1] as SeedTag;
  const alias = (tag: string, target: SeedTag): SeedTag => ({ ...target, tag, aliasOf: target.tag });
  tags.push(alias('latest', newestMain));
  tags.push(alias('v1.0.0', main[0] as SeedTag), alias('v1.1.0', main[1] as SeedTag));
  tags.push({ tag: 'v1.2.0', kind: 'docker', seed: `${name}:v1.2.0`, ageDays: 20.25 });

  for (let n = 0; n < nightlies; n += 1) {
    const tag = `nightly-${String(n).padStart(4, '0')}`;
    tags.push({ tag, kind: kindOf(ordinal++), seed: `${name}:${tag}`, ageDays: 1 + n });
  }
  for (let n = 0; n < pullRequests; n += 1) {
    const tag = `pr-${1000 + n}-${shortHex(`${name}/pr/${n}`)}`;
    if (n % 10 === 5) {
      // A PR build re-tagging a branch build (no new image): two tags, one digest.
      tags.push(alias(tag, branch[(n * 7) % branch.length] as SeedTag));
      continue;
    }
    // Whole days plus a half: never within hours of the 7-day limit, so the plan is stable.
    const ageDays = ((n * 13) % SPAN_DAYS) + 0.5;
    tags.push({ tag, kind: kindOf(ordinal++), seed: `${name}:${tag}`, ageDays });
  }
  return { name, tags };
}

/** The whole scenario: `bench/svc-00` ... with `tagsPerRepository` tags each. */
export function seedScenario(repositories: number, tagsPerRepository: number): SeedRepository[] {
  return Array.from({ length: repositories }, (_, index) =>
    seedRepository(`bench/svc-${String(index).padStart(2, '0')}`, tagsPerRepository),
  );
}

/** The ISO build time of a tag, relative to the seed time. */
export function createdAt(seedTimeMs: number, ageDays: number): string {
  return new Date(seedTimeMs - ageDays * DAY_MS).toISOString();
}
