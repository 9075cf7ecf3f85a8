import { countResults, summarizePlan, type PlannedTag } from '../../../lambda/domain';

const tag = (action: PlannedTag['action'], result?: PlannedTag['result']): PlannedTag => ({
  tag: `t-${action}-${result ?? 'none'}`,
  digest: 'sha256:0000000000000000000000000000000000000000000000000000000000000000',
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  created: null,
  action,
  rule: null,
  reason: 'test',
  ...(result && { result }),
});

describe('Function: countResults', () => {
  it('counts kept tags by action and removals by their result', () => {
    // Prepare
    const plan = {
      repositories: [
        { name: 'a', tags: [tag('keep'), tag('keep'), tag('delete', 'deleted'), tag('untag', 'untagged')] },
        { name: 'b', tags: [tag('delete', 'skipped-changed'), tag('delete', 'failed'), tag('delete')] },
      ],
    };

    // Act
    const counts = countResults(plan);

    // Assess: the removal without a result (a dry run) counts nowhere.
    expect(counts).toEqual({
      kept: 2,
      deleted: 1,
      untagged: 1,
      skippedChanged: 1,
      failed: 1,
      failedRepositories: 0,
    });
  });
});

describe('Function: summarizePlan', () => {
  it('counts the repositories that could not be read or cleaned', () => {
    // Prepare: one repository unread (no tags), one whose removal failed after a failed re-read.
    const repositories = [
      { name: 'a', tags: [tag('keep')] },
      { name: 'b', tags: [], error: 'could not read the repository: HTTP 503' },
      { name: 'c', tags: [tag('delete', 'failed')], error: 'could not read the repository again: reset' },
    ];

    // Act
    const summary = summarizePlan(repositories);

    // Assess
    expect(summary).toMatchObject({ repositories: 3, tags: 2, failed: 1, failedRepositories: 2 });
    expect(countResults({ repositories })).toMatchObject({ kept: 1, failed: 1, failedRepositories: 2 });
  });
});
