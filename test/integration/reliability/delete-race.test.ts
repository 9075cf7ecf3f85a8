import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pMap from 'p-map';

import type { Plan } from '../../../lambda/domain';
import { runCli } from '../../helpers/cli';
import { pushImage, retag } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';
import { recordMeasurement } from '../../helpers/run-report';
import { DANGLING, snapshotTags } from '../../helpers/stress-set';

const REPOSITORY = 'race/app';
const BUILDS = 300;
const KEPT = 5;

describe('Sweep: a push into the same repository during its digest DELETEs', () => {
  let registry: RegistryProcess;

  beforeAll(async () => {
    registry = await startRegistry();
  });

  afterAll(async () => {
    await registry?.stop();
  });

  it('leaves no tag dangling and reports every removal done', async () => {
    // Prepare: 300 builds, each its own digest; keep the 5 newest. distribution 2.8 answers a
    // digest DELETE 500 when a tag link of the repository is being rewritten as it walks the
    // tags, after it removed the manifest: measured before the fix, 2 to 11 such tags per run.
    await pMap(
      Array.from({ length: BUILDS }, (_, n) => n),
      (n) =>
        pushImage(registry.url, REPOSITORY, `build-${n}`, {
          seed: `build ${n}`,
          created: new Date(Date.now() - (n + 1) * 60_000).toISOString(),
        }),
      { concurrency: 8 },
    );
    const writerImage = await pushImage(registry.url, REPOSITORY, 'wip', { seed: 'writer' });
    const policy = join(mkdtempSync(join(tmpdir(), 'regsweep-race-')), 'policy.yaml');
    writeFileSync(policy, `rules:\n  - name: builds\n    tags: 'build-.*'\n    keep: ${KEPT}\n`);

    // Act: sweep, while a writer re-points 4 tags of the same repository again and again.
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      while (writing) {
        await Promise.all(
          [0, 1, 2, 3].map((k) =>
            // The registry itself fails some of these under the same race: the writer goes on.
            retag(registry.url, REPOSITORY, `wip-${k}`, writerImage.digest).then(
              () => (writes += 1),
              () => undefined,
            ),
          ),
        );
      }
    })();
    const result = await runCli(['sweep', '--registry', registry.url, '--policy', policy, '--json']).finally(
      () => (writing = false),
    );
    await writer;

    // Assess
    const plan = JSON.parse(result.stdout) as Plan;
    const tags = plan.repositories[0]?.tags ?? [];
    const cleared = tags.filter((tag) => tag.reason.endsWith('pointing at nothing: cleared')).length;
    const now = (await snapshotTags(registry.url, [REPOSITORY])).get(REPOSITORY) ?? new Map();
    recordMeasurement('delete-race', { builds: BUILDS, writes, cleared, failed: plan.summary.failed });
    expect(writes).toBeGreaterThan(20);
    // A dangling tag is shown with what the sweep said of it.
    expect(
      [...now]
        .filter(([, digest]) => digest === DANGLING)
        .map(([tag]) => tags.find((entry) => entry.tag === tag) ?? tag),
    ).toEqual([]);
    expect([...now.keys()].filter((tag) => tag.startsWith('build-')).sort()).toEqual(
      Array.from({ length: KEPT }, (_, n) => `build-${n}`).sort(),
    );
    expect(plan.summary).toMatchObject({ delete: BUILDS - KEPT, failed: 0 });
    expect(tags.filter((tag) => tag.action === 'delete' && tag.result !== 'deleted')).toEqual([]);
    expect(result.status).toBe(0);
  });
});
