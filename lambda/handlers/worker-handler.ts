import type { SQSClient } from '@aws-sdk/client-sqs';
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { deadlineMarginMs, stopBeforeDeadline } from '../aws/deadline';
import type { LambdaEnvironment } from '../aws/environment';
import { enqueueCleanups, pushRecheckDelaySeconds, receiveAgainIn } from '../aws/queue';
import { countResults, errorSummary, logger, recordRun, recordRunBudget } from '../aws/telemetry';
import type { Plan } from '../domain';
import { sweepRun, unlinkedPushes } from '../engine';
import { continuationOf, parseCleanupMessage, type CleanupMessage } from '../events';
import type { LedgerStore } from '../ledger/store';
import { DEFAULT_CONCURRENCY, type RegistryClient } from '../registry';
import { carriedPlan, leavePendingPlan } from './pending-plans';

export interface WorkerDependencies {
  readonly environment: LambdaEnvironment;
  readonly client: RegistryClient;
  /** Queues continuations and re-times messages whose pushed tags were not linked yet. */
  readonly sqs: SQSClient;
  /**
   * The ledger: push and pull times for planning (`order: pushed`, `keepPulledWithin`), archives
   * before removals, the removals recorded after. Absent: no ledger.
   */
  readonly ledger?: LedgerStore;
}

/** The most tag names one log line lists (with the count beside them). */
const MAX_LOGGED_TAGS = 50;

/** What became of one message: done, handed on to a continuation, or to be received again. */
type Outcome = 'done' | 'continued' | 'retry';

/** A message to be received again on purpose (its pushed tags are not linked yet): not an error. */
class ReceiveAgain extends Error {
  public constructor(messageId: string) {
    super(`message ${messageId} comes back: its pushed tags are not linked yet`);
    this.name = 'ReceiveAgain';
  }
}

/**
 * Cleans the repository named by each queued message. Only the messages that failed are reported
 * (`reportBatchItemFailures`), so only they come back; on a FIFO queue every later message of a
 * failed message's group is reported too, to keep the group's order. A rerun is harmless: a
 * removal that is already done counts as done.
 *
 * Two things make a message come back on purpose:
 * - **pushed tags not linked yet** (the registry notifies before it links a tag): the run holds
 *   each `pushed` digest whatever the tags resolve to; when a tag still does not resolve to its
 *   digest afterwards, the message is reported failed and made visible again after
 *   `PUSH_RECHECK_DELAYS_S` (its group waits meanwhile, so no other run of the repository goes
 *   first); after the queue's last receipt it lands in the dead-letter queue, the digest held in
 *   every run.
 * - **the deadline**: removals stop starting `deadlineMarginMs` before the invocation's deadline;
 *   the rest is queued as a continuation (same repository, trigger, run, event ids and pushes;
 *   at most `MAX_CONTINUATIONS`), and the log says which removals were not started and why. With
 *   a ledger, the removals not started are left there as a pending plan whose id the continuation
 *   carries (`plan`): the continuation carries them out, re-verified, without planning again (see
 *   `lambda/engine/pending-plan.ts`); without one, or when it cannot be used, it plans afresh.
 */
export function createWorkerHandler(deps: WorkerDependencies) {
  const { environment, client } = deps;
  const pendingPlans = { ledger: deps.ledger, registry: client.registry, policy: environment.policy };
  return async (
    event: SQSEvent,
    context?: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<SQSBatchResponse> => {
    // Without a context (direct calls), there is no deadline to watch.
    const remainingMs = context ? () => context.getRemainingTimeInMillis() : () => Number.POSITIVE_INFINITY;
    const marginMs = deadlineMarginMs(remainingMs());
    const cleanRecord = async (record: SQSRecord): Promise<void> => {
      const started = Date.now();
      let outcome: Outcome;
      try {
        outcome = await handleRecord(record, stopBeforeDeadline(remainingMs, marginMs));
      } catch (error) {
        logger.error('cleanup failed; the message will be retried', {
          messageId: record.messageId,
          error: errorSummary(error),
          durationMs: Date.now() - started,
        });
        throw error;
      }
      if (outcome === 'retry') throw new ReceiveAgain(record.messageId);
    };
    // Powertools Batch on a FIFO queue: records in order; a failed one fails every later record
    // of its message group (kept in order), other groups go on; only the failed are reported.
    const response = await processPartialResponse(event, cleanRecord, new SqsFifoPartialProcessorAsync(), {
      skipGroupOnError: true,
      throwOnFullBatchFailure: false,
    });
    return { batchItemFailures: response.batchItemFailures };
  };

  async function handleRecord(record: SQSRecord, stopStarting: () => string | undefined): Promise<Outcome> {
    const started = Date.now();
    const message = parseCleanupMessage(record.body);
    let stopReason: string | undefined;
    const stop = (): string | undefined => {
      const reason = stopStarting();
      stopReason ??= reason;
      return reason;
    };
    const notStartedAtAll = stop();
    if (notStartedAtAll) {
      // Too close to the deadline to plan: hand the whole message on (its pending plan included).
      await queueContinuation(message, notStartedAtAll, [], message.reserved, message.plan);
      return 'continued';
    }
    const pushes = message.pushed ?? [];
    // Told of more pushes than a message carries: what is not listed cannot be held, so plan only.
    const dryRun = environment.dryRun || message.pushedTruncated === true;
    const budget = runBudget(message);
    const carried = dryRun
      ? undefined
      : await carriedPlan(pendingPlans, message, Number(record.attributes?.ApproximateReceiveCount ?? '1'));
    const plan = await sweepRun({
      client,
      policy: environment.policy,
      repositories: [message.repository],
      dryRun,
      heldPushes: new Map([[message.repository, pushes]]),
      stopStarting: stop,
      ...(carried && { plan: carried }),
      ...(budget && { reserveRemovals: budget.reserve }),
      ...(deps.ledger && {
        ledger: deps.ledger,
        // A scheduled run's archives are filed under the sweep's run id (continuations included).
        ...(message.runId !== undefined && { runId: message.runId }),
        warn: (warning: string) => logger.warn(warning, { repository: message.repository }),
      }),
    });
    const counts = countResults(plan);
    const durationMs = Date.now() - started;
    recordRun(environment.registry, counts, durationMs, dryRun);
    const notStarted = dryRun ? [] : notStartedRemovals(plan);
    const pending = dryRun
      ? []
      : await unlinkedPushes(client, message.repository, pushes, DEFAULT_CONCURRENCY);
    logger.info('repository cleaned', {
      repository: message.repository,
      trigger: message.trigger,
      ...(message.runId !== undefined && { runId: message.runId }),
      ...(message.continuation !== undefined && { continuation: message.continuation }),
      ...(carried && { fromPendingPlan: message.plan }),
      dryRun,
      ...(message.pushedTruncated && {
        planOnly: 'the notification named more pushed tags than a message carries: nothing removed',
      }),
      planned: plan.summary,
      ...counts,
      ...(pending.length > 0 && { heldUntilLinked: pending }),
      ...(budget && { budget: budget.report() }),
      ...(notStarted.length > 0 && {
        notStarted: notStarted.slice(0, MAX_LOGGED_TAGS),
        notStartedCount: notStarted.length,
        notStartedReason: stopReason,
      }),
      durationMs,
    });
    // A repository that could not be read (or checked) is a failure too: the queue retries it.
    const unread = plan.repositories.find((repository) => repository.error !== undefined)?.error;
    if (unread !== undefined) throw new Error(`${message.repository}: ${unread}`);
    if (counts.failed > 0) throw new Error(`${counts.failed} removals failed in ${message.repository}`);
    if (pending.length > 0) {
      // Received again soon, and the whole run redone with the pushes still held.
      const seconds = pushRecheckDelaySeconds(Number(record.attributes?.ApproximateReceiveCount ?? '1'));
      logger.warn('pushed tags not linked yet: their digests stay held; the message comes back', {
        repository: message.repository,
        pending,
        seconds,
      });
      await receiveAgainIn(deps.sqs, queueUrl(), record.receiptHandle, seconds).catch((error: unknown) =>
        // It still comes back, after the queue's visibility timeout.
        logger.warn('could not shorten the message visibility', { error: errorSummary(error) }),
      );
      return 'retry';
    }
    if (notStarted.length > 0) {
      await queueContinuation(
        message,
        stopReason ?? 'stopped before the Lambda deadline',
        notStarted,
        // What this repository reserved and did not do stays reserved for the continuation.
        budget && Math.max(0, budget.reserved() - counts.deleted - counts.untagged),
        await leavePendingPlan(pendingPlans, message.repository, plan),
      );
      return 'continued';
    }
    return 'done';
  }

  /**
   * The budget of a scheduled run with a ledger: the repository's planned removals are reserved
   * from the run's record (one atomic conditional update) before any of them; a repository that
   * does not fit is skipped whole. A continuation reserves only what goes beyond what the
   * invocation before it had reserved and not done (`reserved`). Undefined: no shared budget (a
   * push run, or no ledger): `maxDeletesPerRun` then caps each invocation.
   */
  function runBudget(message: CleanupMessage) {
    const ledger = deps.ledger;
    const runId = message.runId;
    if (!ledger || message.trigger !== 'schedule' || runId === undefined) return undefined;
    if (environment.policy.document.limits.maxDeletesPerRun === undefined) return undefined;
    const carried = message.reserved ?? 0;
    let reserved = carried;
    let skipped = false;
    return {
      reserve: async (_repository: string, count: number): Promise<boolean> => {
        const more = Math.max(0, count - carried);
        if (more === 0) return true;
        const fits = await ledger.reserveBudget(runId, more);
        if (fits) reserved = carried + more;
        else skipped = true;
        recordRunBudget({ reserved: fits ? more : 0, skipped: !fits });
        return fits;
      },
      reserved: () => reserved,
      report: () => ({ runId, reserved, carried, skipped }),
    };
  }

  async function queueContinuation(
    message: CleanupMessage,
    why: string,
    notStarted: readonly string[],
    reserved?: number,
    plan?: string,
  ): Promise<void> {
    const continuation = continuationOf(message, reserved, plan);
    const result = await enqueueCleanups(deps.sqs, queueUrl(), [continuation]);
    if (result.failed > 0) throw new Error(`could not queue the continuation of ${message.repository}`);
    logger.info('continuation queued', {
      repository: message.repository,
      continuation: continuation.continuation,
      ...(plan !== undefined && { plan }),
      reason: why,
      notStarted: notStarted.length,
    });
  }

  function queueUrl(): string {
    return environment.queueUrl as string;
  }
}

/** The tags whose removal a stop left not started (no result, and not kept). */
function notStartedRemovals(plan: Plan): string[] {
  return plan.repositories.flatMap((repository) =>
    repository.tags
      .filter((tag) => tag.action !== 'keep' && tag.result === undefined && !tag.dangling)
      .map((tag) => `${repository.name}:${tag.tag}`),
  );
}
