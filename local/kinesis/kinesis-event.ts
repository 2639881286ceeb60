/** Kinesis records in the shape Lambda's event source mapping hands them to a function. */
import type { _Record } from '@aws-sdk/client-kinesis';
import type { KinesisStreamRecord } from 'aws-lambda';

/** What every record of one stream says about where it came from. */
export interface EventSourceIdentity {
  readonly eventSourceARN: string;
  readonly awsRegion: string;
  /** The role Lambda reads the stream with; locally a fixed name in the stream's account. */
  readonly invokeIdentityArn: string;
}

/** The identity of the stream `arn:aws:kinesis:{region}:{account}:stream/{name}`. */
export function eventSourceOf(streamArn: string): EventSourceIdentity {
  const [, , , awsRegion = '', account = ''] = streamArn.split(':');
  return {
    eventSourceARN: streamArn,
    awsRegion,
    invokeIdentityArn: `arn:aws:iam::${account}:role/parley-local-event-source`,
  };
}

/** One record as Lambda delivers it: data in base64, arrival time in epoch seconds with a fraction. */
export function toKinesisStreamRecord(
  record: _Record,
  shardId: string,
  source: EventSourceIdentity,
): KinesisStreamRecord {
  const sequenceNumber = record.SequenceNumber ?? '';
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.PartitionKey ?? '',
      sequenceNumber,
      data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
      approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    ...source,
  };
}
