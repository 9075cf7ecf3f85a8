import { MediaType, summarizePlan } from '../../../lambda/domain';
import {
  compilePolicy,
  deleteLimitExceeded,
  plannedRemovals,
  planUntagged,
  reclaimableBytes,
  type KnownManifest,
} from '../../../lambda/policy';
import { DAY_MS, NOW, digestOf } from './builders';

const policy = compilePolicy({
  rules: [{ name: 'none', tags: 'never' }],
  untagged: [{ olderThan: '2d', keepPulledWithin: '7d' }],
});
const entry = policy.untagged[0]!;
const ago = (days: number): Date => new Date(NOW.getTime() - days * DAY_MS);

const current = digestOf('c1');
const [oldIndex, oldAmd, oldArm, fresh, pulled, eventsOnly] = ['a1', 'a2', 'a3', 'f1', 'p1', 'e1'].map(
  digestOf,
);
const image = (digest: typeof current, days: number, blobs: Record<string, number>): KnownManifest => ({
  digest,
  mediaType: MediaType.OciManifest,
  linksKnown: true,
  pushedAt: ago(days),
  blobSizes: blobs,
});

describe('Function: planUntagged', () => {
  it('deletes an old superseded index before its platform manifests, with reasons, and keeps the rest', () => {
    // Prepare
    const manifests: KnownManifest[] = [
      image(current, 1, { 'sha256:shared': 10 }),
      {
        digest: oldIndex!,
        mediaType: MediaType.OciIndex,
        children: [oldAmd!, oldArm!],
        linksKnown: true,
        pushedAt: ago(5),
      },
      image(oldAmd!, 5, { 'sha256:shared': 10, 'sha256:amd': 100 }),
      image(oldArm!, 5, { 'sha256:arm': 200 }),
      image(fresh!, 1, {}),
      { ...image(pulled!, 9, {}), pulledAt: ago(3) },
      { digest: eventsOnly!, linksKnown: false, pushedAt: ago(9) },
    ];
    const repository = {
      name: 'apps/web',
      tags: [{ tag: 'latest', digest: current, mediaType: MediaType.OciManifest }],
    };

    // Act
    const plans = planUntagged(repository, manifests, entry, NOW);

    // Assess
    const summary = plans.map((plan) => [plan.digest, plan.action]);
    expect(summary.slice(0, 3)).toEqual([
      [oldIndex, 'delete'],
      [oldAmd, 'delete'],
      [oldArm, 'delete'],
    ]);
    expect(plans.find((plan) => plan.digest === current)).toBeUndefined();
    const reasonOf = (digest: string | undefined): string | undefined =>
      plans.find((plan) => plan.digest === digest)?.reason;
    expect(reasonOf(oldIndex)).toBe('no tag reaches it; last pushed 5d ago (olderThan=2d)');
    expect(reasonOf(fresh)).toMatch(/within olderThan=2d/);
    expect(reasonOf(pulled)).toMatch(/within keepPulledWithin/);
    expect(reasonOf(eventsOnly)).toMatch(/^cannot prove unreachable/);
    expect(reclaimableBytes(manifests, new Set([oldIndex!, oldAmd!, oldArm!]))).toBe(300);
  });

  it('keeps every candidate when a reached index has children nobody knows', () => {
    const repository = {
      name: 'apps/web',
      tags: [{ tag: 'latest', digest: current, mediaType: MediaType.OciIndex }],
    };
    const plans = planUntagged(repository, [image(oldAmd!, 9, {})], entry, NOW);
    expect(plans).toEqual([expect.objectContaining({ digest: oldAmd, action: 'keep' })]);
    expect(plans[0]!.reason).toMatch(/cannot prove unreachable: the children of the reached index/);
  });
});

describe('Function: plannedRemovals and summarizePlan with untagged manifests', () => {
  it('counts untagged deletes against maxDeletesPerRun and in the summary', () => {
    const limited = compilePolicy({
      rules: [{ name: 'none', tags: 'never' }],
      untagged: [{ olderThan: '0s' }],
      limits: { maxDeletesPerRun: 1 },
    });
    const untagged = [oldIndex!, oldAmd!].map((digest) => ({
      digest,
      mediaType: MediaType.OciManifest,
      pushedAt: null,
      pulledAt: null,
      action: 'delete' as const,
      reason: 'no tag reaches it',
    }));
    const repositories = [{ name: 'apps/web', tags: [], untagged, reclaimableBytes: 300 }];
    const plan = {
      registry: 'http://127.0.0.1:5000',
      generatedAt: NOW.toISOString(),
      dryRun: true,
      repositories,
      summary: summarizePlan(repositories),
    };
    expect(plannedRemovals(plan)).toBe(2);
    expect(deleteLimitExceeded(plan, limited)).toEqual({ planned: 2, limit: 1 });
    expect(plan.summary).toMatchObject({ untagged: 2, reclaimableBytes: 300 });
    expect(summarizePlan([{ name: 'apps/api', tags: [] }])).not.toHaveProperty('untagged');
  });
});
