import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { LEDGER_TABLE_KEYS } from '../lambda/ledger/dynamodb/keys';

/** Props of {@link LedgerTable}. */
export interface LedgerTableProps {
  /**
   * A customer-managed key for the table. Without one the table is encrypted with the AWS-owned
   * key (DynamoDB always encrypts at rest).
   * @default the AWS-owned key
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the table when the stack is deleted. The ledger is the only record of push
   * and pull times and of the archives `restore` needs: kept unless told otherwise.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The DynamoDB actions each function's use of the ledger sends (see lambda/ledger/dynamodb/). */
const ACTIONS = {
  /** recordEvents: event claims and manifest/tag/history writes (conditional), a tag's deletes. */
  record: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
  /** Planning and removing: times and facts read, facts written, removals recorded and archived, budget. */
  clean: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
  ],
  /** The scheduled sweep creates its run (budget) and reads it back. */
  run: ['dynamodb:PutItem', 'dynamodb:GetItem'],
} as const;

/** What a function does with the ledger; decides the actions it is granted. */
export type LedgerUse = keyof typeof ACTIONS;

/**
 * The ledger's table: one table (`pk`/`sk` strings), on demand, point-in-time recovery, TTL on
 * `expiresAt` (archives after 30 days, manifests gone for 90), retained on stack deletion.
 */
export class LedgerTable extends Construct {
  public readonly table: dynamodb.Table;

  public constructor(scope: Construct, id: string, props: LedgerTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: LEDGER_TABLE_KEYS.partitionKey.name, type: dynamodb.AttributeType.STRING },
      sortKey: { name: LEDGER_TABLE_KEYS.sortKey.name, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: LEDGER_TABLE_KEYS.timeToLiveAttribute,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(props.encryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /** Grants `grantee` exactly the actions its use of the ledger needs, on this table only. */
  public grant(grantee: iam.IGrantable, use: LedgerUse): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...ACTIONS[use]],
      resourceArns: [this.table.tableArn],
    });
    this.table.encryptionKey?.grantEncryptDecrypt(grantee);
  }
}
