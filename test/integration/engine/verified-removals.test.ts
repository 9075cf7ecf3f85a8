import type { Digest, Plan } from '../../../lambda/domain';
import { sweepRun } from '../../../lambda/engine';
import { compilePolicy } from '../../../lambda/policy';
import { RegistryClient } from '../../../lambda/registry';
import { startAnsweringProxy, type AnsweringProxy, type Answerer } from '../../helpers/answering-proxy';
import { runCli } from '../../helpers/cli';
import { startGateProxy, type GateProxy } from '../../helpers/gate-proxy';
import { deleteManifestRaw, headDigestRaw, listTagsRaw, retag } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';
import { pushBuilds } from '../../helpers/registry-fixture';

const REPOSITORY = 'team/app';
// build-3 is kept; build-1 goes with its digest; build-2 shares its digest with latest: untag.
const policy = compilePolicy({
  protect: ['latest'],
  rules: [{ name: 'builds', tags: 'build-\\d+', keep: 1 }],
});

describe('Function: sweepRun (removals are checked, not trusted)', () => {
  let registry: RegistryProcess;
  let proxy: AnsweringProxy | GateProxy | undefined;
  let client: RegistryClient | undefined;
  let digests: Digest[];

  beforeEach(async () => {
    registry = await startRegistry();
    digests = await pushBuilds(registry.url, REPOSITORY, 3);
    await retag(registry.url, REPOSITORY, 'latest', digests[2] as Digest);
  });

  afterEach(async () => {
    await client?.close();
    await proxy?.stop();
    client = undefined;
    proxy = undefined;
    await registry.stop();
  });

  /** Sweeps through a proxy that answers what `answer` says itself and forwards the rest. */
  async function sweepAnswering(answer: Answerer): Promise<{ plan: Plan; proxy: AnsweringProxy }> {
    const answering = await startAnsweringProxy(registry.url, answer);
    proxy = answering;
    client = new RegistryClient({ registry: answering.url, retry: { maxRetries: 0 } });
    return { plan: await sweepRun({ client, policy }), proxy: answering };
  }

  const byTag = (plan: Plan) => new Map(plan.repositories[0]?.tags.map((tag) => [tag.tag, tag]));
  const manifestPath = (reference: string) => `/v2/${REPOSITORY}/manifests/${reference}`;

  it('reports a digest DELETE answered 404 failed when the manifest is still there', async () => {
    // Prepare: a registry (or a proxy before it) that answers the DELETE 404 and deletes nothing.
    const { plan } = await sweepAnswering(({ method, path }) =>
      method === 'DELETE' && path === manifestPath(digests[1] as Digest)
        ? { status: 404, code: 'MANIFEST_UNKNOWN' }
        : undefined,
    );

    // Assess: failed, naming the registry's answer; the tag is still there; exit-worthy.
    expect(byTag(plan).get('build-1')).toMatchObject({ action: 'delete', result: 'failed' });
    expect(byTag(plan).get('build-1')?.error).toMatch(
      /HTTP 404 MANIFEST_UNKNOWN.*yet the manifest still resolves/,
    );
    expect(await headDigestRaw(registry.url, REPOSITORY, 'build-1')).toBe(digests[1]);
    expect(plan.summary.failed).toBe(1);
    expect(byTag(plan).get('build-2')).toMatchObject({ result: 'untagged' });
  });

  it('reports a tag DELETE answered 404 failed when the tag still resolves', async () => {
    // Prepare: distribution 2.8.2 answers a tag DELETE 400; here it is answered 404 instead.
    const { plan } = await sweepAnswering(({ method, path }) =>
      method === 'DELETE' && path === manifestPath('build-2')
        ? { status: 404, code: 'MANIFEST_UNKNOWN' }
        : undefined,
    );

    // Assess
    const build2 = byTag(plan).get('build-2');
    expect(build2).toMatchObject({ action: 'untag', result: 'failed' });
    expect(build2?.error).toMatch(/HTTP 404 MANIFEST_UNKNOWN.*yet the tag still resolves to sha256:/);
    expect((await listTagsRaw(registry.url, REPOSITORY)).sort()).toEqual(['build-2', 'build-3', 'latest']);
    expect(await headDigestRaw(registry.url, REPOSITORY, 'build-2')).toBe(digests[2]);
    expect(await headDigestRaw(registry.url, REPOSITORY, 'latest')).toBe(digests[2]);
  });

  it('reports a digest DELETE the registry accepts but ignores failed after the re-listing', async () => {
    // Prepare: 202 Accepted, and nothing deleted.
    const { plan, proxy: answering } = await sweepAnswering(({ method, path }) =>
      method === 'DELETE' && path === manifestPath(digests[1] as Digest) ? { status: 202 } : undefined,
    );

    // Assess
    expect(byTag(plan).get('build-1')).toMatchObject({ result: 'failed' });
    expect(byTag(plan).get('build-1')?.error).toMatch(/still listed and resolves at sha256:/);
    expect(await headDigestRaw(registry.url, REPOSITORY, 'build-1')).toBe(digests[1]);
    // The check cost one tag list and one HEAD of the one removed tag still listed.
    const afterDeletes = answering.requests.slice(
      answering.requests.lastIndexOf(`DELETE ${manifestPath(digests[1] as Digest)}`) + 1,
    );
    expect(afterDeletes).toEqual([`GET /v2/${REPOSITORY}/tags/list`, `HEAD ${manifestPath('build-1')}`]);
  });

  it('reports a tag DELETE the registry accepts but ignores failed after the re-listing', async () => {
    // Prepare: the tag-only DELETE answered 202 (as distribution 3 does), and nothing removed.
    const { plan } = await sweepAnswering(({ method, path }) =>
      method === 'DELETE' && path === manifestPath('build-2') ? { status: 202 } : undefined,
    );

    // Assess
    expect(byTag(plan).get('build-2')).toMatchObject({
      action: 'untag',
      result: 'failed',
      method: 'delete-tag',
    });
    expect(byTag(plan).get('build-2')?.error).toMatch(/still listed and resolves at sha256:/);
    expect(byTag(plan).get('build-1')).toMatchObject({ result: 'deleted' });
    expect((await listTagsRaw(registry.url, REPOSITORY)).sort()).toEqual(['build-2', 'build-3', 'latest']);
  });

  it('checks a clean repository with one tag list and no HEAD after its removals', async () => {
    // Act
    const { plan, proxy: answering } = await sweepAnswering(() => undefined);

    // Assess: both removals done, and after the last DELETE only the tag list.
    expect(byTag(plan).get('build-1')).toMatchObject({ result: 'deleted' });
    expect(byTag(plan).get('build-2')).toMatchObject({ result: 'untagged', method: 'placeholder' });
    const lastDelete = Math.max(
      ...answering.requests.map((line, at) => (line.startsWith('DELETE ') ? at : -1)),
    );
    expect(answering.requests.slice(lastDelete + 1)).toEqual([`GET /v2/${REPOSITORY}/tags/list`]);
    expect((await listTagsRaw(registry.url, REPOSITORY)).sort()).toEqual(['build-3', 'latest']);
  });

  it('counts a digest DELETE answered 404 done when the manifest is really gone', async () => {
    // Prepare: someone else deletes the manifest just before regsweep's DELETE reaches the registry.
    const gate = await startGateProxy(registry.url, async ({ method, path }) => {
      if (method === 'DELETE' && path === manifestPath(digests[1] as Digest))
        await deleteManifestRaw(registry.url, REPOSITORY, digests[1] as Digest);
    });
    proxy = gate;
    client = new RegistryClient({ registry: gate.url, retry: { maxRetries: 0 } });

    // Act
    const plan = await sweepRun({ client, policy });

    // Assess
    expect(byTag(plan).get('build-1')).toMatchObject({ result: 'deleted' });
    expect(plan.summary.failed).toBe(0);
    expect((await listTagsRaw(registry.url, REPOSITORY)).sort()).toEqual(['build-3', 'latest']);
  });

  it('makes `regsweep delete --digest` fail when the DELETE answered 404 but the manifest stays', async () => {
    // Prepare
    const answering = await startAnsweringProxy(registry.url, ({ method, path }) =>
      method === 'DELETE' && path === manifestPath(digests[1] as Digest)
        ? { status: 404, code: 'MANIFEST_UNKNOWN' }
        : undefined,
    );
    proxy = answering;

    // Act
    const result = await runCli(['delete', '--registry', answering.url, `${REPOSITORY}:build-1`, '--digest']);

    // Assess
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/HTTP 404 MANIFEST_UNKNOWN.*yet the manifest still resolves/);
    expect(await headDigestRaw(registry.url, REPOSITORY, 'build-1')).toBe(digests[1]);
  });
  it.each([
    ['a tag alone', [], 'build-1', (d: Digest[]) => d[1]],
    ['a tag shared with latest (untag)', [], 'build-2', () => 'build-2'],
    ['a digest', ['--digest'], 'build-1', (d: Digest[]) => d[1]],
  ] as const)(
    'makes `regsweep delete` of %s fail when the registry accepts the DELETE but removes nothing',
    async (_what, flags, tag, deleted) => {
      // Prepare: 202 Accepted for the DELETE, and nothing removed.
      const path = manifestPath(deleted(digests));
      const answering = await startAnsweringProxy(registry.url, (request) =>
        request.method === 'DELETE' && request.path === path ? { status: 202 } : undefined,
      );
      proxy = answering;

      // Act
      const result = await runCli(['delete', '--registry', answering.url, `${REPOSITORY}:${tag}`, ...flags]);

      // Assess
      expect(result.status).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(
        /the registry accepted the removal of team\/app.*yet it still resolves at sha256:/,
      );
      expect(await listTagsRaw(registry.url, REPOSITORY)).toContain(tag);
    },
  );
});
