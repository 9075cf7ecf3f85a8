import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
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
