/** Reads every record on the local message stream, to see what the send route put there. */
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import type { ParleyLocal } from '../../local/runtime';

export interface StreamedRecord {
  readonly partitionKey: string;
  readonly data: any;
}

export async function readMessageStream(parley: ParleyLocal): Promise<StreamedRecord[]> {
  const StreamName = parley.resources.streams.messages;
  const { Shards = [] } = await parley.clients.kinesis.send(new ListShardsCommand({ StreamName }));
  const records: StreamedRecord[] = [];
  for (const shard of Shards) {
    let { ShardIterator } = await parley.clients.kinesis.send(
      new GetShardIteratorCommand({ StreamName, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    while (ShardIterator) {
      const page = await parley.clients.kinesis.send(new GetRecordsCommand({ ShardIterator }));
      for (const record of page.Records ?? []) {
        records.push({ partitionKey: record.PartitionKey!, data: JSON.parse(Buffer.from(record.Data!).toString()) });
      }
      ShardIterator = page.Records?.length ? page.NextShardIterator : undefined;
    }
  }
  return records;
}
