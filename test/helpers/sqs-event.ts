import type { SQSEvent, SQSRecord } from 'aws-lambda';

import { loadEventFixture } from '../fixtures/events';

/** An SQS event with one push CleanupMessage per repository, each in its own FIFO group. */
export function cleanupEvent(repositories: readonly string[]): SQSEvent {
  const template = loadEventFixture<SQSEvent>('sqs-cleanup-messages').Records[0] as SQSRecord;
  return {
    Records: repositories.map((repository, index) => ({
      ...template,
      messageId: `message-${index}`,
      body: JSON.stringify({ repository, trigger: 'push', eventIds: [`event-${index}`] }),
      attributes: { ...template.attributes, MessageGroupId: repository },
    })),
  };
}
