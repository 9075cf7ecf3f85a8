import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

import type { Plan, RepositoryPlan } from '../../../lambda/domain';
import { sweepRun } from '../../../lambda/engine';
import { compilePolicy } from '../../../lambda/policy';
import { RegistryClient } from '../../../lambda/registry';
import { loadEventFixture } from '../../fixtures/events';
import { startAnsweringProxy, type AnsweringProxy, type Answerer } from '../../helpers/answering-proxy';
import { startAwsFake, type AwsFake } from '../../helpers/aws-fake';
import { runCli } from '../../helpers/cli';
import { coldStart, lambdaEnv, TEST_SECRET_ARN } from '../../helpers/lambda';
import { listTagsRaw, pushImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

const DAY_MS = 86_400_000;
const daysAgo = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString();
const REPOSITORIES = ['team/a', 'team/b', 'team/broken'] as const;
const POLICY = { rules: [{ name: 'builds', tags: 'build-\\d+', keep: 1 }] };
const policy = compilePolicy(POLICY);
const UNAVAILABLE = { status: 503, code: 'UNAVAILABLE' } as const;

/** A request of team/broken's: `/v2/team/broken/<rest>`. */
const brokenPath = (path: string, rest: string): boolean => path.startsWith(`/v2/team/broken/${rest}`);

describe('Isolation: one repository that cannot be read stops nothing else', () => {
  let registry: RegistryProcess;
  let proxy: AnsweringProxy | undefined;
  let client: RegistryClient | undefined;

  beforeEach(async () => {
    registry = await startRegistry();
    // build-1 and build-2 go in every repository, build-3 (the newest) stays.
    for (const repository of REPOSITORIES)
      for (let n = 1; n <= 3; n += 1)
        await pushImage(registry.url, repository, `build-${n}`, { created: daysAgo(10 - n) });
  });

  afterEach(async () => {
    await client?.close();
    await proxy?.stop();
    client = undefined;
    proxy = undefined;
    await registry.stop();
  });

  async function sweepAnswering(answer: Answerer): Promise<Plan> {
    proxy = await startAnsweringProxy(registry.url, answer);
    client = new RegistryClient({ registry: proxy.url, retry: { maxRetries: 1, minDelayMs: 1 } });
    return sweepRun({ client, policy });
  }

  const repositoryOf = (plan: Plan, name: string): RepositoryPlan | undefined =>
    plan.repositories.find((repository) => repository.name === name);
  const tagsOf = async (repository: string): Promise<string[]> =>
    (await listTagsRaw(registry.url, repository)).sort();

  /** team/a and team/b were cleaned; team/broken has all its tags. */
  async function expectOthersCleaned(): Promise<void> {
    expect(await tagsOf('team/a')).toEqual(['build-3']);
    expect(await tagsOf('team/b')).toEqual(['build-3']);
    expect(await tagsOf('team/broken')).toEqual(['build-1', 'build-2', 'build-3']);
  }

  it('reports a repository whose tags cannot be listed, and exits 1 through the CLI', async () => {
    // Prepare: every tag list of team/broken answers 503, through every retry.
    proxy = await startAnsweringProxy(registry.url, ({ path }) =>
      brokenPath(path, 'tags/list') ? UNAVAILABLE : undefined,
    );
    const file = join(mkdtempSync(join(tmpdir(), 'regsweep-policy-')), 'policy.json');
    writeFileSync(file, JSON.stringify(POLICY));

    // Act
    const result = await runCli(['sweep', '--registry', proxy.url, '--policy', file, '--json']);

    // Assess: exit 1 (incomplete), team/broken named on stderr and in the plan, the others cleaned.
    expect(result.status).toBe(1);
    const plan = JSON.parse(result.stdout) as Plan;
    expect(repositoryOf(plan, 'team/broken')).toEqual({
      name: 'team/broken',
      tags: [],
      error: expect.stringMatching(
        /^could not read the repository: .*tags of team\/broken.*HTTP 503 UNAVAILABLE/,
      ),
    });
    expect(plan.summary).toMatchObject({ repositories: 3, failedRepositories: 1, failed: 0, delete: 4 });
    expect(result.stderr).toMatch(
      /1 repository could not be read or checked.*\n {2}team\/broken: could not read/,
    );
    await expectOthersCleaned();

    // Act: the human table of a plan names it too (and a plan with an unread repository exits 1).
    const human = await runCli(['plan', '--registry', proxy.url, '--policy', file]);

    // Assess
    expect(human.status).toBe(1);
    expect(human.stdout).toMatch(/^team\/broken\n {2}FAILED: could not read the repository: /m);
    expect(human.stdout).toMatch(
      /Plan: 3 repositories, 2 tags: 2 keep, 0 delete, 0 untag; 1 repository failed \(dry run/,
    );
  });

  it('reports a repository whose image config cannot be read', async () => {
    // Act: every blob read of team/broken (the configs, for the images' ages) answers 503.
    const plan = await sweepAnswering(({ method, path }) =>
      method === 'GET' && brokenPath(path, 'blobs/') ? UNAVAILABLE : undefined,
    );

    // Assess
    expect(repositoryOf(plan, 'team/broken')).toMatchObject({
      tags: [],
      error: expect.stringMatching(/could not read the repository: .*blob team\/broken@sha256:.*503/),
    });
    expect(plan.summary).toMatchObject({ failedRepositories: 1, failed: 0 });
    expect(repositoryOf(plan, 'team/a')?.tags.map((tag) => tag.result ?? tag.action)).toEqual([
      'deleted',
      'deleted',
      'keep',
    ]);
    await expectOthersCleaned();
  });

  it('reports a repository one of whose manifests cannot be read, leaving all its tags alone', async () => {
    // Act
    const plan = await sweepAnswering(({ path }) =>
      brokenPath(path, 'manifests/build-2') ? UNAVAILABLE : undefined,
    );

    // Assess
    expect(repositoryOf(plan, 'team/broken')?.error).toMatch(/manifest team\/broken:build-2.*503/);
    await expectOthersCleaned();
  });

  it('reports a repository that cannot be read again before its removals', async () => {
    // Act: team/broken's first tag list (planning) works, the next (re-verification) does not.
    let listings = 0;
    const plan = await sweepAnswering(({ path }) =>
      brokenPath(path, 'tags/list') && (listings += 1) > 1 ? UNAVAILABLE : undefined,
    );

    // Assess: the repository's error says so, its removals failed and were not sent.
    const broken = repositoryOf(plan, 'team/broken');
    expect(broken?.error).toMatch(/^could not read the repository again: .*503/);
    expect(broken?.tags.map((tag) => tag.result ?? tag.action)).toEqual(['failed', 'failed', 'keep']);
    expect(plan.summary).toMatchObject({ failedRepositories: 1, failed: 2 });
    expect(proxy?.requests.filter((line) => line.startsWith('DELETE /v2/team/broken/'))).toEqual([]);
    await expectOthersCleaned();
  });
  it('reports a repository whose removals cannot be checked afterwards', async () => {
    // Act: team/broken's tag lists answer while planning and re-reading, not after its removals.
    let listings = 0;
    const plan = await sweepAnswering(({ path }) =>
      brokenPath(path, 'tags/list') && (listings += 1) > 2 ? UNAVAILABLE : undefined,
    );

    // Assess: the removals were done as the registry answered, and the repository is reported.
    const broken = repositoryOf(plan, 'team/broken');
    expect(broken?.error).toMatch(/^could not check the removals: .*503/);
    expect(broken?.tags.map((tag) => tag.result ?? tag.action)).toEqual(['deleted', 'deleted', 'keep']);
    expect(plan.summary).toMatchObject({ failedRepositories: 1, failed: 0 });
    expect(await tagsOf('team/broken')).toEqual(['build-3']);
    expect(await tagsOf('team/a')).toEqual(['build-3']);
  });
});

describe('Handler: worker (a repository it could not read)', () => {
  let registry: RegistryProcess;
  let fake: AwsFake;
  let proxy: AnsweringProxy;

  beforeEach(async () => {
    registry = await startRegistry();
    for (const repository of ['team/a', 'team/broken'])
      for (let n = 1; n <= 3; n += 1)
        await pushImage(registry.url, repository, `build-${n}`, { created: daysAgo(10 - n) });
    proxy = await startAnsweringProxy(registry.url, ({ path }) =>
      brokenPath(path, 'tags/list') ? UNAVAILABLE : undefined,
    );
    fake = await startAwsFake({
      secrets: { [TEST_SECRET_ARN]: JSON.stringify({ webhookToken: 'w'.repeat(32) }) },
    });
  });

  afterEach(async () => {
    await proxy.stop();
    await registry.stop();
    await fake.stop();
  });

  it('reports its message as a failure, for SQS to retry, and cleans the others', async () => {
    // Prepare
    const template = loadEventFixture<SQSEvent>('sqs-cleanup-messages').Records[0] as SQSRecord;
    const event: SQSEvent = {
      Records: ['team/a', 'team/broken'].map((repository, index) => ({
        ...template,
        messageId: `message-${index}`,
        body: JSON.stringify({ repository, trigger: 'push', eventIds: [`e${index}`] }),
        attributes: { ...template.attributes, MessageGroupId: repository },
      })),
    };
    const { handler, restore } = coldStart<(event: SQSEvent) => Promise<SQSBatchResponse>>(
      'worker',
      lambdaEnv(fake, proxy.url, POLICY),
    );
    try {
      // Act
      const response = await handler(event);

      // Assess
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'message-1' }]);
      expect((await listTagsRaw(registry.url, 'team/a')).sort()).toEqual(['build-3']);
      expect((await listTagsRaw(registry.url, 'team/broken')).sort()).toEqual([
        'build-1',
        'build-2',
        'build-3',
      ]);
    } finally {
      restore();
    }
  });
});
