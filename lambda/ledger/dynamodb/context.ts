import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import type { LedgerClock } from '../rules';
import type { Sleep } from './batch';

/** What the DynamoDB store's operations share. */
export interface TableContext {
  readonly client: DynamoDBClient;
  readonly table: string;
  readonly now: LedgerClock;
  readonly sleep?: Sleep;
}

/** True when a conditional write was refused because its condition did not hold. */
export function isConditionFailed(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

/** Runs a conditional write: true when written, false when its condition did not hold. */
export async function conditionally(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
}
