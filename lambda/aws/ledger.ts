import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
// The DynamoDB adapter itself, not the ledger's index: that also exports the SQLite store, whose
// native module has no place in a Lambda bundle.
import { DynamoDbLedgerStore } from '../ledger/dynamodb/store';
import type { LedgerStore } from '../ledger/store';
import type { LambdaEnvironment } from './environment';

/**
 * The ledger of a function: a {@link DynamoDbLedgerStore} on `REGSWEEP_LEDGER_TABLE` with the
 * runtime's own credentials and region, or undefined when the function has no ledger table.
 * Called once per execution environment, at module scope, so the client's connections are reused.
 */
export function ledgerStoreFor(environment: Pick<LambdaEnvironment, 'ledgerTable'>): LedgerStore | undefined {
  if (environment.ledgerTable === undefined) return undefined;
  return new DynamoDbLedgerStore({ tableName: environment.ledgerTable, client: new DynamoDBClient({}) });
}
