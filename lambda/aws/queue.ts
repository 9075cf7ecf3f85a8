import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { toQueueBatches, type CleanupMessage } from '../events';

/** What an enqueue did. */
export interface EnqueueResult {
  readonly sent: number;
  /** Entries SQS refused twice (first try and one retry). */
  readonly failed: number;
}

/**
 * Sends cleanup messages to the FIFO queue in `SendMessageBatch` batches (one message group per
 * repository, deduplicated by event ids or run id); entries SQS reports as failed are retried once.
 */
export async function enqueueCleanups(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly CleanupMessage[],
  options: { runId?: string } = {},
): Promise<EnqueueResult> {
  let sent = 0;
  let failed = 0;
  for (const batch of toQueueBatches([...messages], options)) {
    let entries = batch;
    for (let attempt = 0; attempt < 2 && entries.length > 0; attempt += 1) {
      const output = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      sent += output.Successful?.length ?? 0;
      const failedIds = new Set((output.Failed ?? []).map((entry) => entry.Id));
      entries = entries.filter((entry) => failedIds.has(entry.Id));
    }
    failed += entries.length;
  }
  return { sent, failed };
}

/**
 * Seconds until a push message whose pushed tags were not linked yet is received again, by its
 * receive count (1 for the first receipt); the last value repeats. The queue moves a message to
 * the dead-letter queue after its fifth receipt, so a tag is looked for over about 2 minutes.
 */
export const PUSH_RECHECK_DELAYS_S = [5, 15, 30, 60, 120] as const;

/** The visibility delay for a message received `receiveCount` times. */
export function pushRecheckDelaySeconds(receiveCount: number): number {
  const index = Math.min(Math.max(1, Math.floor(receiveCount)) - 1, PUSH_RECHECK_DELAYS_S.length - 1);
  return PUSH_RECHECK_DELAYS_S[index] ?? PUSH_RECHECK_DELAYS_S[0];
}

/**
 * Makes a received message visible again after `seconds` (it is reported as a batch failure too,
 * so SQS keeps it). FIFO queues take no per-message delay: this is how a message is looked at
 * again soon rather than after the whole visibility timeout.
 */
export async function receiveAgainIn(
  sqs: SQSClient,
  queueUrl: string,
  receiptHandle: string,
  seconds: number,
): Promise<void> {
  await sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: queueUrl,
      ReceiptHandle: receiptHandle,
      VisibilityTimeout: seconds,
    }),
  );
}
