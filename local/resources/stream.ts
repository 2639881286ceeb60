import { CreateStreamCommand, DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { waitUntil } from '../aws/wait';

/**
 * Makes sure the stream exists with `shardCount` shards and is ACTIVE. A stream kept from an earlier run
 * with another shard count is refused: kinesalite cannot reshard it to match.
 */
export async function ensureStream(kinesis: KinesisClient, streamName: string, shardCount: number): Promise<void> {
  try {
    await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
  let openShards: number | undefined;
  await waitUntil(async () => {
    const described = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    const summary = described.StreamDescriptionSummary;
    openShards = summary?.OpenShardCount;
    return summary?.StreamStatus === 'ACTIVE';
  }, `stream ${streamName} to be ACTIVE`);
  if (openShards !== shardCount) {
    const fix = 'remove it or its data directory';
    throw new Error(`Stream ${streamName} exists with ${openShards} shards, not ${shardCount}: ${fix}`);
  }
}
