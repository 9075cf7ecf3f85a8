import { countResults, type PlannedTag } from '../../../lambda/domain';

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
    expect(counts).toEqual({ kept: 2, deleted: 1, untagged: 1, skippedChanged: 1, failed: 1 });
  });
});
