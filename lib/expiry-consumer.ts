import type { RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { FailedRecordsQueue } from './failed-records';

export interface ParleyExpiryConsumerProps {
  /** The function the expiries invoke. */
  readonly function: lambda.IFunction;
  /**
   * The table named by the function's `onExpiry`. It must have a stream that carries old images
   * (`ParleyStorage` gives one to every table some function's `onExpiry` names).
   */
  readonly table: ITable;
  /**
   * What happens to the on-failure queue (and the records in it) when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Records per invocation: expiries are not latency-bound, so fuller batches are welcome. */
export const EXPIRY_BATCH_SIZE = 100;
/** Retries of a failing batch (bisected on error) before it is described in `failedRecords`. */
export const EXPIRY_RETRY_ATTEMPTS = 10;

/**
 * Lambda's filter on the table's stream: only items that DynamoDB's TTL service deleted invoke the function.
 * The table's other deletions (a device acknowledging what it received) and its inserts and updates are
 * dropped before any invocation, so they cost nothing.
 */
export const TTL_DELETIONS_ONLY: Readonly<Record<string, unknown>> = lambda.FilterCriteria.filter({
  eventName: lambda.FilterRule.isEqual('REMOVE'),
  userIdentity: {
    type: lambda.FilterRule.isEqual('Service'),
    principalId: lambda.FilterRule.isEqual('dynamodb.amazonaws.com'),
  },
});

/**
 * A function invoked with the items a table's time to live deleted (their old images), read from the
 * table's DynamoDB stream and filtered to TTL deletions. A failing batch is bisected and retried; the
 * records that still fail are described (not copied) in `failedRecords`, an SQS queue to alarm on. The
 * function does not answer `batchItemFailures`, so a retried batch is retried whole.
 *
 * The event source grants the function what it needs to read the table's stream, and the on-failure
 * destination grants it the right to send to the queue: no IAM is written by hand here.
 *
 * @example
 * const expiry = new ParleyExpiryConsumer(this, 'QueueExpiry', { function: fn, table: storage.tables.deviceQueues });
 * expiry.failedRecords.metricApproximateNumberOfMessagesVisible(); // alarm on it
 */
export class ParleyExpiryConsumer extends Construct {
  /** Where Lambda describes each batch it gave up on (shard, sequence numbers), after the retries. */
  public readonly failedRecords: FailedRecordsQueue;
  /** The event source mapping from the table's stream to the function. */
  public readonly eventSource: DynamoEventSource;

  constructor(scope: Construct, id: string, props: ParleyExpiryConsumerProps) {
    super(scope, id);

    this.failedRecords = new FailedRecordsQueue(this, 'FailedRecords', { removalPolicy: props.removalPolicy });

    this.eventSource = new DynamoEventSource(props.table, {
      // The stream keeps 24 hours of changes; start from the oldest so no expiry is skipped on creation.
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: EXPIRY_BATCH_SIZE,
      bisectBatchOnError: true,
      retryAttempts: EXPIRY_RETRY_ATTEMPTS,
      reportBatchItemFailures: false,
      filters: [TTL_DELETIONS_ONLY],
      onFailure: new SqsDlq(this.failedRecords),
    });
    props.function.addEventSource(this.eventSource);
  }
}
