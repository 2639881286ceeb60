import { Duration } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisConsumerEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { StreamConsumerDefinition } from '../lambdas/functions';
import { FailedBatchesBucketDestination } from './failed-deliveries';

export interface ParleyStreamConsumerProps {
  /** The function the records invoke. */
  readonly function: lambda.IFunction;
  /** The stream named by `definition.stream`. */
  readonly stream: kinesis.IStream;
  /** How the function consumes it: the `consumes` of its entry in `lambdas/functions.ts`. */
  readonly definition: StreamConsumerDefinition;
  /**
   * Name of the enhanced fan-out consumer; unique among the consumers of the stream.
   */
  readonly consumerName: string;
  /** The bucket named by `definition.failedBatchesTo`: where Lambda writes each batch it gave up on, records and all. */
  readonly failedBatches: IBucket;
}

/**
 * A function invoked by the records of a Kinesis stream through an enhanced fan-out consumer: the stream
 * pushes records to it (~70 ms on average) instead of Lambda polling each shard once a second. Up to
 * `definition.parallelizationFactor` batches per shard at a time: Lambda keeps the records of one partition
 * key (one conversation) in one of them, in order, so a slow record (a large group's fan-out) holds up
 * only the conversations whose keys hash with its own, not its whole shard. A failing batch is bisected and retried; the records that still fail are written,
 * whole, to the `failedBatches` bucket, from which `npm run redrive` puts them back on the stream.
 *
 * The event source grants the function what it needs to read through the consumer, and the on-failure
 * destination the right to write (only write) objects to the bucket.
 *
 * @example
 * const fanout = new ParleyStreamConsumer(this, 'Fanout', {
 *   function: fn, stream, definition: functions.fanout.consumes, consumerName: 'fanout',
 *   failedBatches: storage.buckets.failedDeliveries,
 * });
 */
export class ParleyStreamConsumer extends Construct {
  /** The enhanced fan-out consumer registered on the stream. */
  public readonly consumer: kinesis.StreamConsumer;
  /** The event source mapping from the consumer to the function. */
  public readonly eventSource: KinesisConsumerEventSource;

  constructor(scope: Construct, id: string, props: ParleyStreamConsumerProps) {
    super(scope, id);
    const { definition } = props;

    this.consumer = new kinesis.StreamConsumer(this, 'Consumer', {
      stream: props.stream,
      streamConsumerName: props.consumerName,
    });

    this.eventSource = new KinesisConsumerEventSource(this.consumer, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: definition.batchSize,
      // Invoke as soon as records arrive: latency matters more than fuller batches.
      maxBatchingWindow: Duration.seconds(0),
      bisectBatchOnError: true,
      retryAttempts: definition.retryAttempts,
      reportBatchItemFailures: definition.reportBatchItemFailures,
      // Several batches per shard in flight; Lambda still keeps each partition key's (conversation's) records in order.
      parallelizationFactor: definition.parallelizationFactor,
      onFailure: new FailedBatchesBucketDestination(props.failedBatches),
    });
    props.function.addEventSource(this.eventSource);
  }
}
