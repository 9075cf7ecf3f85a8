import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  isDigest,
  NO_DIGEST,
  summarizePlan,
  type Plan,
  type PlannedTag,
  type RepositoryPlan,
} from '../domain';
import type { Policy } from '../policy';
import { plannedReason } from './outcomes';

/*
 * The rest of a plan, for a continuation. A worker stopped by its Lambda deadline leaves the
 * removals it did not start in the ledger (a pending plan), and its continuation carries them out
 * instead of planning the repository again: re-planning costs a HEAD per tag each time, which at
 * tens of thousands of tags doubles a run cut into several invocations. Carrying the decisions over
 * is as safe as carrying them out late: every removal is still re-verified against a fresh read of
 * the repository's tags (`verifyRepository`), so a tag pushed or moved since planning, and a digest
 * a kept or new tag now holds, are left alone. What the continuation does not re-decide is the
 * policy's choice itself, so a pending plan is used only while it is young and made under the same
 * policy; otherwise the continuation plans afresh.
 */

/** Bump when the encoding changes: a pending plan of another version is planned afresh. */
const ENCODING_VERSION = 1;

/** The oldest plan a continuation carries out; an older one (a message that waited) plans afresh. */
export const MAX_PENDING_PLAN_AGE_MS = 60 * 60 * 1000;

interface Encoded {
  readonly version: number;
  /** sha256 of the policy document the plan was made under. */
  readonly policy: string;
  readonly generatedAt: string;
  readonly registry: string;
  readonly repository: RepositoryPlan;
}

/** What a continuation may carry out, or why it plans afresh. */
export type DecodedPendingPlan =
  | { readonly plan: Plan; readonly problem?: undefined }
  | { readonly plan?: undefined; readonly problem: string };

/**
 * The removals of `repository` a sweep did not start (tags and untagged manifests without a
 * `result`), as a plan of that repository alone; undefined when none is left.
 */
export function remainingOf(repository: RepositoryPlan): RepositoryPlan | undefined {
  const tags = repository.tags.filter((tag) => tag.action !== 'keep' && tag.result === undefined);
  const untagged = repository.untagged?.filter(
    (manifest) => manifest.action === 'delete' && manifest.result === undefined,
  );
  if (tags.length === 0 && !untagged?.length) return undefined;
  return {
    name: repository.name,
    tags: tags.map(
      ({ tag, digest, mediaType, created, pushedAt, pulledAt, action, rule, reason, dangling }) => ({
        tag,
        digest,
        mediaType,
        created,
        ...(pushedAt !== undefined && { pushedAt }),
        ...(pulledAt !== undefined && { pulledAt }),
        action,
        rule,
        // What stopped it is said where it stopped; the continuation starts from the plan's reason.
        reason: plannedReason(reason),
        ...(dangling && { dangling }),
      }),
    ),
    ...(untagged?.length && {
      untagged: untagged.map(({ result: _result, error: _error, ...manifest }) => ({
        ...manifest,
        reason: plannedReason(manifest.reason),
      })),
    }),
  };
}

/** The pending plan's bytes: the remaining repository plan with what it was made under, gzipped. */
export function encodePendingPlan(plan: Plan, repository: RepositoryPlan, policy: Policy): Uint8Array {
  const encoded: Encoded = {
    version: ENCODING_VERSION,
    policy: policyHash(policy),
    generatedAt: plan.generatedAt,
    registry: plan.registry,
    repository,
  };
  return new Uint8Array(gzipSync(JSON.stringify(encoded)));
}

/**
 * The plan a continuation carries out from a pending plan's bytes, or the problem that makes it
 * plan afresh: bytes it cannot read, another encoding, another repository or registry, another
 * policy, or a plan older than {@link MAX_PENDING_PLAN_AGE_MS}.
 */
export function decodePendingPlan(
  body: Uint8Array,
  expected: {
    readonly repository: string;
    readonly registry: string;
    readonly policy: Policy;
    readonly now: Date;
  },
): DecodedPendingPlan {
  let encoded: Encoded;
  try {
    encoded = JSON.parse(gunzipSync(body).toString('utf8')) as Encoded;
  } catch (error) {
    return { problem: `its bytes do not decode (${(error as Error).message})` };
  }
  if (encoded?.version !== ENCODING_VERSION)
    return { problem: `it is encoded as version ${String(encoded?.version)}, not ${ENCODING_VERSION}` };
  if (encoded.repository?.name !== expected.repository)
    return { problem: `it is the plan of '${String(encoded.repository?.name)}'` };
  if (encoded.registry !== expected.registry) return { problem: `it is the plan of another registry` };
  if (encoded.policy !== policyHash(expected.policy)) return { problem: 'it was made under another policy' };
  const age = expected.now.getTime() - Date.parse(encoded.generatedAt);
  if (!(age >= 0 && age <= MAX_PENDING_PLAN_AGE_MS))
    return {
      problem: `it was made at ${encoded.generatedAt}, not within the last ${MAX_PENDING_PLAN_AGE_MS / 60_000} minutes`,
    };
  if (!Array.isArray(encoded.repository.tags)) return { problem: 'it holds no list of removals' };
  const malformed = encoded.repository.tags.find((tag) => !isRemoval(tag));
  if (malformed !== undefined)
    return { problem: `it holds a removal that is not one: ${JSON.stringify(malformed)}` };
  const repositories = [encoded.repository];
  return {
    plan: {
      registry: encoded.registry,
      generatedAt: encoded.generatedAt,
      dryRun: true,
      repositories,
      summary: summarizePlan(repositories),
    },
  };
}

/** A planned removal as {@link remainingOf} writes it: a tag, its digest, and delete or untag. */
function isRemoval(tag: PlannedTag): boolean {
  return (
    typeof tag?.tag === 'string' &&
    tag.tag.length > 0 &&
    (tag.action === 'delete' || tag.action === 'untag') &&
    typeof tag.reason === 'string' &&
    typeof tag.mediaType === 'string' &&
    (isDigest(tag.digest) || (tag.dangling === true && tag.digest === NO_DIGEST))
  );
}

function policyHash(policy: Policy): string {
  return createHash('sha256').update(JSON.stringify(policy.document)).digest('hex');
}
