/*
 * Runs in a fresh Node process (bundled by bench/measure/planner.ts): builds a synthetic inventory
 * of `--tags` tags in repositories of `--per-repository` tags, plans it with the bench policy and
 * prints one JSON line: build and plan times, memory before and after.
 */
import type { Digest, Inventory, RepositoryInventory, TagRecord } from '../../lambda/domain';
import { compilePolicy, planCleanup } from '../../lambda/policy';
import { BENCH_POLICY } from '../seed/scenario';

const DAY_MS = 86_400_000;
const MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';

function option(name: string): number {
  const index = process.argv.indexOf(name);
  const value = Number(process.argv[index + 1]);
  if (index < 0 || !Number.isInteger(value) || value < 1) throw new Error(`${name} N is required`);
  return value;
}

/** base-26 letters, so feature stream names match `feature-[a-z]+`. */
function letters(value: number): string {
  let text = '';
  for (let rest = value; ; rest = Math.floor(rest / 26) - 1) {
    text = String.fromCharCode(97 + (rest % 26)) + text;
    if (rest < 26) return text;
  }
}

function hex7(value: number): string {
  return ((value * 2654435761) >>> 0).toString(16).padStart(8, '0').slice(1);
}

/** One repository shaped like the seeded ones: branch streams, PR builds, nightlies, releases. */
function repository(name: string, tagCount: number, offset: number, nowMs: number): RepositoryInventory {
  const tags: TagRecord[] = [];
  for (let n = 0; n < tagCount; n += 1) {
    const serial = offset + n;
    // Mostly unique digests; one tag in twenty shares the previous tag's digest.
    const digest = `sha256:${(serial - (n % 20 === 19 ? 1 : 0)).toString(16).padStart(64, '0')}` as Digest;
    const created = new Date(nowMs - ((n * 7919) % (60 * 24)) * (DAY_MS / 24) - DAY_MS / 10);
    const slot = n % 50;
    let tag: string;
    if (slot < 15) tag = `main-${hex7(serial)}`;
    else if (slot < 25) tag = `develop-${hex7(serial)}`;
    else if (slot < 35)
      tag = `feature-${letters(n % Math.max(1, Math.floor(tagCount / 50)))}-${hex7(serial)}`;
    else if (slot < 47) tag = `pr-${n}-${hex7(serial)}`;
    else if (slot < 49) tag = `nightly-${n}`;
    else tag = `v1.${Math.floor(n / 50)}.0`;
    tags.push({ tag, digest, mediaType: MEDIA_TYPE, created });
  }
  return { name, tags };
}

function main(): void {
  const total = option('--tags');
  const perRepository = Math.min(total, option('--per-repository'));
  const policy = compilePolicy(BENCH_POLICY);
  const nowMs = Date.UTC(2026, 0, 1);
  const buildStarted = performance.now();
  const repositories: RepositoryInventory[] = [];
  for (let offset = 0; offset < total; offset += perRepository) {
    const name = `bench/svc-${String(repositories.length).padStart(4, '0')}`;
    repositories.push(repository(name, Math.min(perRepository, total - offset), offset, nowMs));
  }
  const inventory: Inventory = { registry: 'http://127.0.0.1:5000', repositories };
  const buildMs = performance.now() - buildStarted;
  const rssBeforeMiB = process.memoryUsage().rss / 2 ** 20;
  const planStarted = performance.now();
  const plan = planCleanup(inventory, policy, new Date(nowMs));
  const planMs = performance.now() - planStarted;
  const memory = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({
      tags: plan.summary.tags,
      repositories: repositories.length,
      removed: plan.summary.delete + plan.summary.untag,
      buildMs,
      planMs,
      rssBeforeMiB,
      rssAfterMiB: memory.rss / 2 ** 20,
      heapUsedMiB: memory.heapUsed / 2 ** 20,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
    })}\n`,
  );
}

main();
