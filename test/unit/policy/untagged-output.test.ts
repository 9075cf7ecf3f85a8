import { formatBytes, formatPlan } from '../../../bin/cli/output';
import { MediaType, summarizePlan, type RepositoryPlan } from '../../../lambda/domain';
import { NOW, digestOf } from './builders';

describe('Function: formatPlan with untagged manifests', () => {
  it('lists the untagged manifests, the reclaimable bytes in readable units, and what frees them', () => {
    // Prepare
    const repositories: RepositoryPlan[] = [
      {
        name: 'apps/web',
        tags: [],
        untagged: [
          {
            digest: digestOf('a1'),
            mediaType: MediaType.OciIndex,
            pushedAt: '2026-11-20T00:00:00.000Z',
            pulledAt: null,
            action: 'delete',
            reason: 'no tag reaches it; last pushed 8d ago (olderThan=2d)',
          },
        ],
        reclaimableBytes: 3 * 1024 * 1024,
      },
    ];
    const plan = {
      registry: 'http://127.0.0.1:5000',
      generatedAt: NOW.toISOString(),
      dryRun: true,
      repositories,
      summary: summarizePlan(repositories),
    };

    // Act
    const text = formatPlan(plan, NOW);

    // Assess
    expect(text).toContain('UNTAGGED DIGEST');
    expect(text).toContain('no tag reaches it; last pushed 8d ago (olderThan=2d)');
    expect(text).toContain('reclaimable: 3.0 MiB');
    expect(text).toContain('1 untagged manifest to delete');
    expect(text).toContain('blobs shared with other repositories stay until none links them');
    expect(text).toContain('(without --delete-untagged) frees them');
  });

  it('formats bytes in readable units', () => {
    expect([formatBytes(512), formatBytes(1536), formatBytes(5 * 1024 ** 3)]).toEqual([
      '512 B',
      '1.5 KiB',
      '5.0 GiB',
    ]);
  });
});
