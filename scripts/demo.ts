/**
 * `npm run demo`: a throwaway real registry, a realistic sample pushed into it, then regsweep's
 * plan, sweep and what remains, using the built CLI exactly as a user would. Uses the registry
 * named by REGSWEEP_REGISTRY if set (it must be one you can wipe), else starts `docker-registry`
 * (or `registry`) from PATH on a free 127.0.0.1 port with temporary storage.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { listTagsRaw, pushImage, headDigestRaw } from '../tools/pusher';
import { registryBinary, startRegistry, type RegistryProcess } from '../tools/registry-process';

const CLI = join(__dirname, '..', 'dist', 'regsweep.js');
const POLICY = join(__dirname, '..', 'examples', 'policy.yaml');
const DAY_MS = 24 * 60 * 60 * 1000;

function sha(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 7);
}

function daysAgo(days: number): string {
  return new Date(Date.now() - days * DAY_MS).toISOString();
}

function banner(text: string): void {
  process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);
}

/** Pushes branch builds, PR builds, releases, a multi-arch index and two tags on one digest. */
async function pushSample(url: string): Promise<number> {
  const pushes: Array<Promise<unknown>> = [];
  for (const repository of ['apps/web', 'apps/api']) {
    for (let build = 0; build < 6; build += 1) {
      const tag = `main-${sha(`${repository} main ${build}`)}`;
      // The newest main build of apps/web is a multi-arch index.
      const kind = repository === 'apps/web' && build === 0 ? 'oci-index' : 'docker';
      pushes.push(pushImage(url, repository, tag, { kind, created: daysAgo(build * 2 + 1) }));
    }
    for (let build = 0; build < 4; build += 1) {
      const tag = `develop-${sha(`${repository} develop ${build}`)}`;
      pushes.push(pushImage(url, repository, tag, { created: daysAgo(build * 3 + 2) }));
    }
    pushes.push(pushImage(url, repository, `pr-12-${sha(`${repository} pr12`)}`, { created: daysAgo(2) }));
    pushes.push(pushImage(url, repository, `pr-9-${sha(`${repository} pr9`)}`, { created: daysAgo(12) }));
    for (const [release, age] of [
      ['v1.0.0', 60],
      ['v1.1.0', 30],
    ] as const) {
      pushes.push(
        pushImage(url, repository, release, { created: daysAgo(age), seed: `${repository} ${release}` }),
      );
    }
  }
  await Promise.all(pushes);
  // Two tags on one digest: `latest` and `v1.2.0` and an old main build all point at the same image.
  const seed = 'apps/web release 1.2.0';
  const created = daysAgo(20);
  for (const tag of ['v1.2.0', 'latest', `main-${sha('apps/web main old')}`]) {
    await pushImage(url, 'apps/web', tag, { seed, created });
  }
  return pushes.length + 3;
}

function regsweep(args: string[], url: string): number {
  process.stdout.write(`\n$ regsweep ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, [CLI, ...args], {
    stdio: 'inherit',
    env: { ...process.env, REGSWEEP_REGISTRY: url },
  });
  return result.status ?? 1;
}

async function main(): Promise<void> {
  let registry: RegistryProcess | undefined;
  let url = process.env.REGSWEEP_REGISTRY;
  if (!url) {
    if (!registryBinary()) {
      process.stderr.write(
        'npm run demo needs a registry, and none was found.\n' +
          '  Debian/Ubuntu:  sudo apt-get install docker-registry\n' +
          "  elsewhere:      put the CNCF distribution 'registry' binary on PATH (github.com/distribution/distribution releases)\n" +
          '  or:             REGSWEEP_REGISTRY=http://127.0.0.1:5000 npm run demo   (a registry you can wipe, with storage.delete.enabled: true)\n',
      );
      process.exitCode = 2;
      return;
    }
    registry = await startRegistry();
    url = registry.url;
  }
  try {
    banner(`registry ${url}${registry ? ` (throwaway, storage ${registry.storageDir})` : ''}`);
    const started = Date.now();
    const count = await pushSample(url);
    process.stdout.write(`pushed ${count} tags into apps/web and apps/api in ${Date.now() - started} ms\n`);
    const latestBefore = await headDigestRaw(url, 'apps/web', 'latest');

    banner('the policy');
    process.stdout.write(execFileSync('cat', [POLICY]).toString());

    banner('plan: what would go, and why (nothing is removed)');
    regsweep(['plan', '--policy', POLICY], url);

    banner('sweep');
    const status = regsweep(['sweep', '--policy', POLICY], url);

    banner('what remains');
    for (const repository of ['apps/web', 'apps/api']) {
      const tags = (await listTagsRaw(url, repository)).sort();
      process.stdout.write(`${repository}: ${tags.join(' ')}\n`);
    }
    const latestAfter = await headDigestRaw(url, 'apps/web', 'latest');
    process.stdout.write(
      `apps/web:latest ${latestAfter === latestBefore ? 'still resolves to' : 'CHANGED from'} ${latestBefore}\n`,
    );
    if (registry) {
      // Nothing writes to this throwaway registry now, so collecting while it runs is safe here;
      // on a real registry stop it or make it read-only first.
      banner('reclaiming disk: docker-registry garbage-collect');
      const output = await registry.garbageCollect();
      const deleted = output.split('\n').filter((line) => line.includes('blob eligible for deletion')).length;
      process.stdout.write(`garbage-collect: ${deleted} blobs eligible for deletion, now removed\n`);
    }
    process.exitCode = status;
  } finally {
    await registry?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
