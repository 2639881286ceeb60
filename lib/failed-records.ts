import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** SQS's longest retention: the time SREs have to look at, and redrive, records that kept failing. */
export const FAILED_RECORDS_RETENTION = Duration.days(14);

export interface FailedRecordsQueueProps {
  /**
   * What happens to the queue (and the records in it) when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The on-failure destination of a stream event source mapping (pass it to `SqsDlq`): Lambda describes in it
 * each batch it gave up on after the retries (shard, sequence numbers), not the records themselves. Encrypted,
 * TLS-only, keeping messages 14 days. An SQS queue to alarm on.
 */
export class FailedRecordsQueue extends sqs.Queue {
  constructor(scope: Construct, id: string, props: FailedRecordsQueueProps = {}) {
    super(scope, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: FAILED_RECORDS_RETENTION,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the on-failure destination of a stream’s event source mapping; a dead-letter ' +
        'queue behind it would only move the same failure records one queue further.',
    });
  }
}
