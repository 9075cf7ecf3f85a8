import { gunzipSync, gzipSync } from 'node:zlib';

import type { Digest, Plan, RepositoryPlan } from '../../../lambda/domain';
import {
  decodePendingPlan,
  encodePendingPlan,
  MAX_PENDING_PLAN_AGE_MS,
  remainingOf,
} from '../../../lambda/engine/pending-plan';
import { compilePolicy } from '../../../lambda/policy';

const REGISTRY = 'http://127.0.0.1:5000';
const POLICY = compilePolicy({ rules: [{ name: 'builds', tags: 'main-\\d+', keep: 1 }] });
const GENERATED_AT = '2026-12-01T10:00:00.000Z';
const digest = (fill: string): Digest => `sha256:${fill.repeat(64)}` as Digest;
const IMAGE = 'application/vnd.oci.image.manifest.v1+json';

/** A swept repository: main-1 deleted, main-2 not started, main-3 skipped, main-4 kept, main-5's untag not started. */
function sweptRepository(): RepositoryPlan {
  const tag = (name: string, fill: string) => ({
    tag: name,
    digest: digest(fill),
    mediaType: IMAGE,
    created: '2026-11-01T00:00:00.000Z',
    rule: 'builds',
    reason: 'beyond keep=1 (newest first)',
  });
  return {
    name: 'apps/web',
    tags: [
      { ...tag('main-1', '1'), action: 'delete', result: 'deleted' },
      {
        ...tag('main-2', '2'),
        action: 'delete',
        reason: 'beyond keep=1 (newest first); not started: 900 ms left',
      },
      { ...tag('main-3', '3'), action: 'delete', result: 'skipped-changed' },
      { ...tag('main-4', '4'), action: 'keep', reason: 'within keep=1' },
      { ...tag('main-5', '4'), action: 'untag' },
    ],
    untagged: [
      {
        digest: digest('a'),
        mediaType: IMAGE,
        pushedAt: null,
        pulledAt: null,
        action: 'delete',
        reason: 'untagged',
        result: 'deleted',
      },
      {
        digest: digest('b'),
        mediaType: IMAGE,
        pushedAt: null,
        pulledAt: null,
        action: 'delete',
        reason: 'untagged',
      },
      {
        digest: digest('c'),
        mediaType: IMAGE,
        pushedAt: null,
        pulledAt: null,
        action: 'keep',
        reason: 'pulled lately',
      },
    ],
  };
}

function planOf(repository: RepositoryPlan): Plan {
  return {
    registry: REGISTRY,
    generatedAt: GENERATED_AT,
    dryRun: false,
    repositories: [repository],
    summary: { repositories: 1, tags: 0, keep: 0, delete: 0, untag: 0, failed: 0, failedRepositories: 0 },
  };
}

const expected = {
  repository: 'apps/web',
  registry: REGISTRY,
  policy: POLICY,
  now: new Date(Date.parse(GENERATED_AT) + 5 * 60_000),
};

describe('Engine: pending plans (the rest of a plan, for a continuation)', () => {
  it('keeps exactly the removals not started, with the reason the plan gave them', () => {
    // Act
    const remaining = remainingOf(sweptRepository());

    // Assess
    expect(remaining?.tags.map((tag) => [tag.tag, tag.action, tag.reason])).toEqual([
      ['main-2', 'delete', 'beyond keep=1 (newest first)'],
      ['main-5', 'untag', 'beyond keep=1 (newest first)'],
    ]);
    expect(remaining?.untagged?.map((manifest) => manifest.digest)).toEqual([digest('b')]);
    expect(remainingOf({ name: 'apps/web', tags: [] })).toBeUndefined();
  });

  it('decodes what it encoded into a plan of the repository alone', () => {
    // Prepare
    const remaining = remainingOf(sweptRepository()) as RepositoryPlan;

    // Act
    const decoded = decodePendingPlan(encodePendingPlan(planOf(remaining), remaining, POLICY), expected);

    // Assess
    expect(decoded.problem).toBeUndefined();
    expect(decoded.plan?.repositories).toEqual([remaining]);
    expect(decoded.plan).toMatchObject({ registry: REGISTRY, generatedAt: GENERATED_AT });
    expect(decoded.plan?.summary).toMatchObject({ tags: 2, keep: 0, delete: 1, untag: 1, untagged: 1 });
  });

  it.each([
    ['another repository', { repository: 'apps/api' }, /plan of 'apps\/web'/],
    ['another registry', { registry: 'http://127.0.0.1:5001' }, /another registry/],
    [
      'another policy',
      { policy: compilePolicy({ rules: [{ name: 'builds', tags: 'main-\\d+', keep: 2 }] }) },
      /another policy/,
    ],
    [
      'an old plan',
      { now: new Date(Date.parse(GENERATED_AT) + MAX_PENDING_PLAN_AGE_MS + 1) },
      /not within the last 60 minutes/,
    ],
    [
      'a plan from the future',
      { now: new Date(Date.parse(GENERATED_AT) - 1) },
      /not within the last 60 minutes/,
    ],
  ] as const)('refuses %s', (_case, change, problem) => {
    // Prepare
    const remaining = remainingOf(sweptRepository()) as RepositoryPlan;
    const body = encodePendingPlan(planOf(remaining), remaining, POLICY);

    // Act
    const decoded = decodePendingPlan(body, { ...expected, ...change });

    // Assess
    expect(decoded.plan).toBeUndefined();
    expect(decoded.problem).toMatch(problem);
  });

  it.each([
    ['bytes that are not gzip', new Uint8Array([1, 2, 3]), /do not decode/],
    ['another encoding version', gzipSync(JSON.stringify({ version: 99 })), /version 99, not 1/],
    [
      'a removal without a digest',
      gzipSync(
        JSON.stringify({
          version: 1,
          policy: encodedPolicyHash(),
          generatedAt: GENERATED_AT,
          registry: REGISTRY,
          repository: {
            name: 'apps/web',
            tags: [{ tag: 'main-2', action: 'delete', reason: 'r', mediaType: IMAGE }],
          },
        }),
      ),
      /a removal that is not one/,
    ],
  ] as const)('refuses %s', (_case, body, problem) => {
    // Act
    const decoded = decodePendingPlan(new Uint8Array(body), expected);

    // Assess
    expect(decoded.plan).toBeUndefined();
    expect(decoded.problem).toMatch(problem);
  });
});

/** The policy hash an encoded pending plan holds (to forge one that differs only in its removal). */
function encodedPolicyHash(): string {
  const repository: RepositoryPlan = { name: 'apps/web', tags: [] };
  const body = gunzipSync(encodePendingPlan(planOf(repository), repository, POLICY)).toString('utf8');
  return (JSON.parse(body) as { policy: string }).policy;
}
