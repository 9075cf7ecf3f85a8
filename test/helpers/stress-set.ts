import { startRegistry } from '../../tools/registry-process';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import pMap from 'p-map';

import type { Digest, Plan } from '../../lambda/domain';
import { makeTempDir, removeTempDir } from '../../tools/exit-cleanup';
import { headDigestRaw, listTagsRaw, pushImage, retag } from '../../tools/pusher';

/*
 * A realistic repository set for stress tests: many repositories of branch builds, PR builds,
 * releases, a multi-arch release, tags sharing digests with builds the policy removes, and tags
 * no rule touches. Seed it once, stop the registry keeping its storage, and give each scenario a
 * copy (`copyStorage`): seeding 1,000 tags costs seconds, copying them a few hundred ms.
 */

const DAY_MS = 86_400_000;

/** Tags per repository in {@link seedStressSet}. */
export const STRESS_TAGS_PER_REPOSITORY = 100;

/**
 * The policy the stress set is cut for: per repository it removes 58 digests and untags 3 tags
 * (`main-0`, a platform child of the kept `v2.0.0`; `main-2` and `develop-3`, which share their
 * digest with the protected `latest` and `stable`), and keeps 39 tags.
 */
export const STRESS_POLICY_YAML = `
protect: [latest, stable, 'v\\d+\\.\\d+\\.\\d+']
rules:
  - name: branch-builds
    repositories: ['stress/**']
    tags: (main|develop)-\\d+
    groupBy: (main|develop)-\\d+
    keep: 5
  - name: pull-requests
    repositories: ['stress/**']
    tags: pr-\\d+
    olderThan: 7d
`;

/**
 * Whether {@link STRESS_POLICY_YAML} keeps `tag` of a seeded repository, derived from how the set
 * is built (an oracle independent of regsweep's planner): the newest 5 of each branch stream,
 * PR builds from yesterday, and every protected or unmatched tag.
 */
export function keptByConstruction(tag: string): boolean {
  const build = /^(main|develop)-(\d+)$/.exec(tag);
  if (build) return Number(build[2]) > (build[1] === 'main' ? 35 : 15);
  const pr = /^pr-(\d+)$/.exec(tag);
  if (pr) return Number(pr[1]) > 10;
  return true;
}

/** The removals that are tag-only in every seeded repository (their digest stays for a kept tag). */
export const UNTAGGED_BY_CONSTRUCTION: readonly string[] = ['main-0', 'main-2', 'develop-3'];

/** Writes {@link STRESS_POLICY_YAML} to a temp file and returns its path. */
export function writeStressPolicy(): string {
  const file = join(makeTempDir('regsweep-stress-policy-'), 'policy.yaml');
  writeFileSync(file, STRESS_POLICY_YAML);
  return file;
}

/** repository → tag → digest. */
export type TagSnapshot = Map<string, Map<string, Digest>>;

/** The repository names of a stress set of `count` repositories. */
export function stressRepositories(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `stress/svc-${index}`);
}

/** What {@link seedStressSet} left in the registry. */
export interface SeededSet {
  readonly tags: TagSnapshot;
  /** The platform manifests of each repository's `v2.0.0` (untagged digests a kept index holds). */
  readonly indexChildren: Map<string, Digest[]>;
}

/**
 * Pushes 100 tags into each repository (docker schema2 images, plus one docker manifest list)
 * and returns what the registry holds afterwards. `created` is always explicit, and tags that
 * must share a digest are pushed with the same seed and the same `created`.
 */
export async function seedStressSet(registryUrl: string, names: readonly string[]): Promise<SeededSet> {
  const now = Date.now();
  const daysAgo = (days: number): string => new Date(now - days * DAY_MS).toISOString();
  const indexChildren = new Map<string, Digest[]>();
  const pushes: Array<() => Promise<unknown>> = [];
  for (const repository of names) {
    const image = (tag: string, created: string, seed = `${repository}:${tag}`) =>
      pushes.push(() => pushImage(registryUrl, repository, tag, { created, seed }));
    // Branch builds: main-1 is the oldest, main-40 the newest; develop likewise.
    for (let n = 1; n <= 40; n += 1) image(`main-${n}`, daysAgo(100 - n));
    for (let n = 1; n <= 20; n += 1) image(`develop-${n}`, daysAgo(100 - n));
    // PR builds: ten older than a week, five from yesterday.
    for (let n = 1; n <= 15; n += 1) image(`pr-${n}`, daysAgo(n <= 10 ? 30 - n : 1));
    for (let n = 1; n <= 10; n += 1) image(`v1.0.${n}`, daysAgo(200 - n));
    // Tags no rule matches.
    for (let n = 1; n <= 11; n += 1) image(`feature-${n}`, daysAgo(300));
  }
  await pMap(pushes, (push) => push(), { concurrency: 16 });

  // Shared digests, pushed after their builds: same seed and created, so the same digest.
  await pMap(
    names,
    async (repository) => {
      await pushImage(registryUrl, repository, 'latest', {
        created: daysAgo(98),
        seed: `${repository}:main-2`,
      });
      await pushImage(registryUrl, repository, 'stable', {
        created: daysAgo(97),
        seed: `${repository}:develop-3`,
      });
      const release = await pushImage(registryUrl, repository, 'v2.0.0', {
        kind: 'docker-list',
        // Older than every build: main-0 (a platform child) is the main stream's oldest.
        created: daysAgo(150),
      });
      const child = release.children?.[0];
      if (!child) throw new Error('the manifest list has no children');
      indexChildren.set(repository, release.children ?? []);
      await retag(registryUrl, repository, 'main-0', child);
    },
    { concurrency: 8 },
  );
  return { tags: await snapshotTags(registryUrl, names), indexChildren };
}

/**
 * What a snapshot records for a listed tag whose manifest is gone (HEAD 404): distribution 2.x
 * leaves such dangling tags when a digest DELETE fails halfway.
 */
export const DANGLING = 'dangling' as Digest;

/**
 * Every tag of `repositories` with its digest, read with raw HEADs (not regsweep's client); a
 * listed tag that does not resolve is {@link DANGLING}. Take it while nothing else writes.
 */
export async function snapshotTags(
  registryUrl: string,
  repositories: readonly string[],
  concurrency = 16,
): Promise<TagSnapshot> {
  const snapshot: TagSnapshot = new Map();
  for (const repository of repositories) {
    const tags = await listTagsRaw(registryUrl, repository);
    const digests = await pMap(tags, (tag) => headDigestRaw(registryUrl, repository, tag), { concurrency });
    const byTag = new Map<string, Digest>();
    tags.forEach((tag, index) => byTag.set(tag, digests[index] ?? DANGLING));
    snapshot.set(repository, byTag);
  }
  return snapshot;
}

/** Number of tags in a snapshot. */
export function countTags(snapshot: TagSnapshot): number {
  let count = 0;
  for (const tags of snapshot.values()) count += tags.size;
  return count;
}

/** The part of a snapshot that {@link keptByConstruction} keeps. */
export function keptSubset(snapshot: TagSnapshot): TagSnapshot {
  const kept: TagSnapshot = new Map();
  for (const [repository, tags] of snapshot)
    kept.set(repository, new Map([...tags].filter(([tag]) => keptByConstruction(tag))));
  return kept;
}

/** The tags a plan keeps, with the digest each had when planned. */
export function keptByPlan(plan: Plan): TagSnapshot {
  const kept: TagSnapshot = new Map();
  for (const repository of plan.repositories) {
    const tags = new Map<string, Digest>();
    for (const tag of repository.tags) if (tag.action === 'keep') tags.set(tag.tag, tag.digest);
    kept.set(repository.name, tags);
  }
  return kept;
}

/** `repository:tag` of every kept tag that is gone or points elsewhere in `now`. */
export function lostTags(kept: TagSnapshot, now: TagSnapshot): string[] {
  const lost: string[] = [];
  for (const [repository, tags] of kept) {
    for (const [tag, digest] of tags) {
      const current = now.get(repository)?.get(tag);
      if (current !== digest) lost.push(`${repository}:${tag} (${current ?? 'gone'})`);
    }
  }
  return lost;
}

/** A snapshot as plain sorted `repository:tag@digest` lines, for exact comparisons. */
export function snapshotLines(snapshot: TagSnapshot): string[] {
  const lines: string[] = [];
  for (const [repository, tags] of snapshot)
    for (const [tag, digest] of tags) lines.push(`${repository}:${tag}@${digest}`);
  return lines.sort();
}

const execFileAsync = promisify(execFile);

/** A fresh temp copy of a registry storage dir (`cp -a`); remove it with `removeStorageCopy`. */
export async function copyStorage(storageDir: string): Promise<string> {
  const copy = makeTempDir('regsweep-stress-storage-');
  await execFileAsync('cp', ['-a', `${storageDir}/.`, copy]);
  return copy;
}

export async function removeStorageCopy(dir: string): Promise<void> {
  await removeTempDir(dir);
}

/** A seeded stress set at rest: the stopped registry's storage, to copy for each scenario. */
export interface SeededStorage {
  readonly seedDir: string;
  readonly seeded: SeededSet;
  /** The tags the stress policy keeps, with their digests. */
  readonly kept: TagSnapshot;
  /** The stress policy's file. */
  readonly policy: string;
}

/** Seeds the stress set into a new registry, then stops it keeping its storage. */
export async function seedStoppedStressSet(names: readonly string[]): Promise<SeededStorage> {
  const registry = await startRegistry();
  const seeded = await seedStressSet(registry.url, names);
  await registry.stop({ keepStorage: true });
  return { seedDir: registry.storageDir, seeded, kept: keptSubset(seeded.tags), policy: writeStressPolicy() };
}
