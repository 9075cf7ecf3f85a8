import { ulid } from 'ulid';
import { errorSummary, logger } from '../aws/telemetry';
import type { Plan } from '../domain';
import { decodePendingPlan, encodePendingPlan, remainingOf } from '../engine';
import type { CleanupMessage } from '../events';
import type { LedgerPendingPlan } from '../ledger/records';
import type { LedgerStore } from '../ledger/store';
import type { Policy } from '../policy';

/** What the worker's pending plans need: where they are kept, and what they must have been made for. */
export interface PendingPlans {
  /** Absent: no ledger, so no pending plans (every continuation plans afresh). */
  readonly ledger: LedgerStore | undefined;
  /** The registry client's base URL (a plan's `registry`). */
  readonly registry: string;
  readonly policy: Policy;
}

/**
 * The pending plan a continuation carries out (see `lambda/engine/pending-plan.ts`), or undefined
 * to plan afresh: without a ledger or a plan id, on a message received again (the invocation
 * before may have died mid-removal, which only a fresh inventory sees), and when the ledger no
 * longer has it or it no longer fits (another policy, too old); the log says why.
 */
export async function carriedPlan(
  pending: PendingPlans,
  message: CleanupMessage,
  receiveCount: number,
): Promise<Plan | undefined> {
  const id = message.plan;
  if (!pending.ledger || id === undefined) return undefined;
  const notUsed = (why: string): undefined => {
    logger.info('pending plan not used: planning afresh', { repository: message.repository, plan: id, why });
    return undefined;
  };
  if (receiveCount > 1) return notUsed('the message was received again');
  let saved: LedgerPendingPlan | undefined;
  try {
    saved = await pending.ledger.getPendingPlan(id);
  } catch (error) {
    return notUsed(`the ledger could not give it: ${errorSummary(error).message}`);
  }
  if (!saved) return notUsed('the ledger has no such pending plan (expired or never saved)');
  const decoded = decodePendingPlan(saved.body, {
    repository: message.repository,
    registry: pending.registry,
    policy: pending.policy,
    now: new Date(),
  });
  return decoded.plan ?? notUsed(decoded.problem);
}

/**
 * Leaves the removals of `repository` that a stop left not started in the ledger, for the
 * continuation; their id, or undefined (no ledger, nothing left, or the write failed: the
 * continuation then plans afresh).
 */
export async function leavePendingPlan(
  pending: PendingPlans,
  repository: string,
  plan: Plan,
): Promise<string | undefined> {
  const planned = plan.repositories.find((entry) => entry.name === repository);
  const remaining = planned && remainingOf(planned);
  if (!pending.ledger || !remaining) return undefined;
  const id = ulid();
  try {
    await pending.ledger.savePendingPlan({
      id,
      repository,
      body: encodePendingPlan(plan, remaining, pending.policy),
      savedAt: new Date(),
    });
    return id;
  } catch (error) {
    logger.warn('could not leave the rest of the plan in the ledger: the continuation plans afresh', {
      repository,
      error: errorSummary(error),
    });
    return undefined;
  }
}
