import type { Descriptor, Digest } from '../../../lambda/domain';
import { executePlan, planRun, sweepRun } from '../../../lambda/engine';
import { compilePolicy } from '../../../lambda/policy';
import { RegistryClient } from '../../../lambda/registry';
import { startReferrersProxy, type ReferrersProxy } from '../../helpers/referrers-proxy';
import { describeManifest, pushArtifact, pushIndexOf, referrersTagOf } from '../../../tools/artifacts';
import { headDigestRaw, listTagsRaw, pushImage, retag } from '../../../tools/pusher';
import type { RegistryProcess } from '../../../tools/registry-process';
import { daysAgo, useRegistry } from '../../helpers/registry-fixture';

const REPOSITORY = 'team/app';
/** A catch-all rule: the two newest images stay, whatever their tags. */
const keepTwo = compilePolicy({ rules: [{ name: 'all', keep: 2 }] });

describe('Feature: OCI 1.1 referrers (SBOMs, signatures) follow their subject', () => {
  const fixture = useRegistry();
  let registry: RegistryProcess;
  let client: RegistryClient;
  beforeEach(() => ({ registry, client } = fixture));

  /** build-1 (oldest) .. build-`count` (newest), each with a signature and an SBOM. */
  async function pushSignedBuilds(count: number): Promise<Descriptor[]> {
    const builds: Descriptor[] = [];
    for (let n = 1; n <= count; n += 1) {
      await pushImage(registry.url, REPOSITORY, `build-${n}`, { kind: 'oci', created: daysAgo(10 - n) });
      const build = await describeManifest(registry.url, REPOSITORY, `build-${n}`);
      builds[n] = build;
      // The referrers tag schema (oras, notation, cosign 2 on a registry without the API): the
      // artifacts are untagged, an index of them is tagged sha256-<hex of the build>.
      const sbom = await pushArtifact(registry.url, REPOSITORY, undefined, {
        subject: build,
        payload: `sbom of build-${n}`,
      });
      const signature = await pushArtifact(registry.url, REPOSITORY, undefined, {
        subject: build,
        artifactType: 'application/vnd.cncf.notary.signature',
        payload: `signature of build-${n}`,
      });
      await pushIndexOf(registry.url, REPOSITORY, referrersTagOf(build.digest), [sbom, signature]);
      // cosign's own schema: a signature manifest tagged sha256-<hex>.sig (no subject field).
      await pushArtifact(registry.url, REPOSITORY, `${referrersTagOf(build.digest)}.sig`, {
        artifactType: 'application/vnd.dev.cosign.simplesigning.v1+json',
        payload: `cosign signature of build-${n}`,
      });
    }
    return builds;
  }

  it('keep: 2 keeps two builds and their referrer tags; removed builds take theirs along', async () => {
    // Prepare
    const builds = await pushSignedBuilds(4);

    // Act
    const result = await sweepRun({ client, policy: keepTwo });

    // Assess: build-3 and build-4 stay with their referrer tags; the others went, with theirs.
    const kept = ['build-3', 'build-4'];
    const expected = kept.flatMap((tag) => {
      const digest = (builds[Number(tag.slice(-1))] as Descriptor).digest;
      return [tag, referrersTagOf(digest), `${referrersTagOf(digest)}.sig`];
    });
    expect((await listTagsRaw(registry.url, REPOSITORY)).sort()).toEqual(expected.sort());
    const tags = new Map(result.repositories[0]?.tags.map((tag) => [tag.tag, tag]));
    const oldIndexTag = referrersTagOf((builds[1] as Descriptor).digest);
    expect(tags.get(oldIndexTag)).toMatchObject({ action: 'delete', result: 'deleted' });
    expect(tags.get(oldIndexTag)?.reason).toBe("follows its subject 'build-1', which is deleted");
    expect(tags.get(referrersTagOf((builds[4] as Descriptor).digest))?.reason).toBe(
      "follows its subject 'build-4', which is kept",
    );
    expect(result.summary.failed).toBe(0);
  });

  it('never counts a tagged artifact whose manifest has a subject as a build', async () => {
    // Prepare: three builds; an SBOM of build-3 pushed with a tag of its own, the newest push.
    await pushSignedBuilds(3);
    const build3 = await describeManifest(registry.url, REPOSITORY, 'build-3');
    await pushArtifact(registry.url, REPOSITORY, 'sbom-build-3', { subject: build3, payload: 'tagged sbom' });

    // Act
    const { plan } = await planRun({ client, policy: keepTwo });

    // Assess
    const tags = new Map(plan.repositories[0]?.tags.map((tag) => [tag.tag, tag]));
    expect(tags.get('build-2')?.action).toBe('keep');
    expect(tags.get('build-3')?.action).toBe('keep');
    expect(tags.get('build-1')?.action).toBe('delete');
    expect(tags.get('sbom-build-3')).toMatchObject({
      action: 'keep',
      reason: "follows its subject 'build-3', which is kept",
    });
  });

  it('removes an orphan referrer tag (its subject is not in the repository) and says so', async () => {
    // Prepare: a signature for an image this repository does not have.
    await pushSignedBuilds(1);
    const missing = `sha256:${'ab'.repeat(32)}` as Digest;
    const orphanTag = `${referrersTagOf(missing)}.sig`;
    await pushArtifact(registry.url, REPOSITORY, orphanTag, { payload: 'signature of nothing here' });

    // Act
    const result = await sweepRun({ client, policy: keepTwo });

    // Assess
    const orphan = result.repositories[0]?.tags.find((tag) => tag.tag === orphanTag);
    expect(orphan).toMatchObject({ action: 'delete', result: 'deleted' });
    expect(orphan?.reason).toBe(`orphan referrer: its subject ${missing} is not in the repository: removed`);
    expect(await listTagsRaw(registry.url, REPOSITORY)).not.toContain(orphanTag);
    expect(await listTagsRaw(registry.url, REPOSITORY)).toContain('build-1');
  });

  it("re-verification keeps a removed build's referrer tags when its subject is held again since planning", async () => {
    // Prepare: planned with build-1 and its referrer tags removed; then `stable` is pushed onto build-1.
    const builds = await pushSignedBuilds(3);
    const policy = compilePolicy({ protect: ['stable'], rules: [{ name: 'all', keep: 2 }] });
    const { plan } = await planRun({ client, policy });
    const build1 = builds[1] as Descriptor;
    await retag(registry.url, REPOSITORY, 'stable', build1.digest);

    // Act
    const result = await executePlan(client, { ...plan, dryRun: false }, { concurrency: 4 });

    // Assess
    const tags = new Map(result.repositories[0]?.tags.map((tag) => [tag.tag, tag]));
    for (const tag of [referrersTagOf(build1.digest), `${referrersTagOf(build1.digest)}.sig`]) {
      expect(tags.get(tag)).toMatchObject({ action: 'delete', result: 'skipped-changed' });
      expect(tags.get(tag)?.reason).toContain("its subject is now held by 'stable'");
    }
    expect(await listTagsRaw(registry.url, REPOSITORY)).toEqual(
      expect.arrayContaining([
        'build-1',
        'stable',
        referrersTagOf(build1.digest),
        `${referrersTagOf(build1.digest)}.sig`,
      ]),
    );
  });

  it('probes the referrers API once per repository on a registry without it (404)', async () => {
    await pushSignedBuilds(2);

    await planRun({ client, policy: keepTwo });

    expect(client.stats.referrers).toBe(1);
  });

  describe('Given a registry that answers the referrers API', () => {
    let proxy: ReferrersProxy;
    let viaProxy: RegistryClient;

    beforeEach(async () => {
      proxy = await startReferrersProxy(registry.url);
      viaProxy = new RegistryClient({ registry: proxy.url });
    });

    afterEach(async () => {
      await viaProxy.close();
      await proxy.stop();
    });

    it('takes the subjects of tagged artifacts from the API where manifests are only HEADed', async () => {
      // Prepare: builds ordered by name (no ages: images are HEADed, never read); an SBOM of
      // build-4 tagged sbom-4, which by name alone would be the newest "build".
      for (let n = 1; n <= 4; n += 1)
        await pushImage(registry.url, REPOSITORY, `build-${n}`, { kind: 'oci' });
      const build4 = await describeManifest(registry.url, REPOSITORY, 'build-4');
      const sbom = await pushArtifact(registry.url, REPOSITORY, 'sbom-4', {
        subject: build4,
        payload: 'sbom',
      });
      proxy.addReferrer(build4.digest, sbom);
      const byName = compilePolicy({ rules: [{ name: 'all', order: 'natural', keep: 2 }] });

      // Act
      const result = await sweepRun({ client: viaProxy, policy: byName });

      // Assess: build-3 and build-4 stay; sbom-4 follows build-4 and took no place.
      expect((await listTagsRaw(registry.url, REPOSITORY)).sort()).toEqual(['build-3', 'build-4', 'sbom-4']);
      expect(result.repositories[0]?.tags.find((tag) => tag.tag === 'sbom-4')?.reason).toBe(
        "follows its subject 'build-4', which is kept",
      );
      // One query per unique tagged digest (five), the first of them the probe.
      expect(proxy.referrersRequests).toBe(5);
      expect(await headDigestRaw(registry.url, REPOSITORY, sbom.digest)).toBe(sbom.digest);
    });

    it('only probes the API where every tagged manifest is read anyway (ages)', async () => {
      await pushSignedBuilds(2);

      await planRun({ client: viaProxy, policy: keepTwo });

      expect(proxy.referrersRequests).toBe(1);
    });
  });
});
