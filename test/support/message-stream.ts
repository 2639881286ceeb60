/** Reads every record on the local message streams (1:1 and groups), to see what the routes put there. */
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import type { ParleyLocal } from '../../local/runtime';

export interface StreamedRecord {
  readonly partitionKey: string;
  readonly data: any;
  /** The record's bytes as stored. */
  readonly bytes: Uint8Array;
}

export async function readMessageStream(parley: ParleyLocal): Promise<StreamedRecord[]> {
  const streams = await Promise.all(Object.values(parley.resources.streams).map((StreamName) => readStream(parley, StreamName)));
  return streams.flat();
}

/** Every record of a stream from TRIM_HORIZON, shard by shard. */
export async function readStream(parley: ParleyLocal, StreamName: string): Promise<StreamedRecord[]> {
  const { Shards = [] } = await parley.clients.kinesis.send(new ListShardsCommand({ StreamName }));
  const records: StreamedRecord[] = [];
  for (const shard of Shards) {
    let { ShardIterator } = await parley.clients.kinesis.send(
      new GetShardIteratorCommand({ StreamName, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    while (ShardIterator) {
      const page = await parley.clients.kinesis.send(new GetRecordsCommand({ ShardIterator }));
      for (const record of page.Records ?? []) {
        records.push({ partitionKey: record.PartitionKey!, data: JSON.parse(Buffer.from(record.Data!).toString()), bytes: record.Data! });
      }
      ShardIterator = page.Records?.length ? page.NextShardIterator : undefined;
    }
  }
  return records;
}
