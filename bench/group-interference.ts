/**
 * Whether a large group's fan-out holds up 1:1 conversations on its stream shard: 1:1 delivery latency
 * (SEND → PUSH) at a low rate over conversations on the group conversation's shard, once alone and once
 * while the group's messages fan out alongside, one a second. The stream keeps each shard in order, so a
 * slow group record delays every record behind it on its shard.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import type { ParleyLocal } from '../local/runtime';
import { functions } from '../lambdas/functions';
import { laneOfKey } from '../local/kinesis/concurrent-batches';
import type { BenchDevice } from './device';
import { runAtRate } from './latency';
import { createPairs, type Pair } from './population';
import { settle } from './settle';
import { sleep, type LatencySummary } from './stats';

export interface GroupInterferenceRun {
  readonly rate: number;
  readonly seconds: number;
  readonly conversations: number;
  /** 1:1 SEND → PUSH with no group traffic. */
  readonly alone: LatencySummary;
  /** The same, while a message to the group fans out every second. */
  readonly withGroupFanout: LatencySummary;
  readonly groupMessages: number;
  /**
   * Of `conversations`, those whose records go to the same one of the shard's concurrent batches as the
   * group's (Lambda's parallelization factor; the local event source's hash of the key): they still wait
   * for its fan-out, as a tenth of a shard's conversations do on AWS.
   */
  readonly inTheGroupsBatches: number;
  /** p99 with the group's fan-out over p99 alone (the target: ≤ 2). */
  readonly p99Ratio: number | null;
  /**
   * Where each conversation's records went, the group's first: its partition key (the conversation id),
   * its shard, and its lane among the shard's concurrent batches (of `parallelization`). The 1:1
   * conversations are picked at random, so this says what a run measured: conversations sharing the group's
   * lane wait for its fan-out whatever the runtime does.
   */
  readonly placement: {
    readonly parallelization: number;
    readonly group: ConversationPlacement;
    readonly conversations: readonly ConversationPlacement[];
  };
}

export interface ConversationPlacement {
  readonly partitionKey: string;
  readonly shardId: string;
  readonly lane: number;
}

/** The shard a partition key lands on: the one whose hash-key range holds the key's MD5, as Kinesis maps it. */
async function shardOf(parley: ParleyLocal): Promise<(partitionKey: string) => string> {
  const { Shards = [] } = await parley.clients.kinesis.send(new ListShardsCommand({ StreamName: parley.resources.streams.messages }));
  return (partitionKey) => {
    const hash = BigInt(`0x${createHash('md5').update(partitionKey).digest('hex')}`);
    const shard = Shards.find((s) => BigInt(s.HashKeyRange!.StartingHashKey!) <= hash && hash <= BigInt(s.HashKeyRange!.EndingHashKey!));
    return shard!.ShardId!;
  };
}

/** Pairs whose conversations share the group conversation's shard: made until `count` of them do. */
async function pairsOnShard(parley: ParleyLocal, groupConversationId: string, count: number): Promise<{ onShard: Pair[]; others: Pair[] }> {
  const shard = await shardOf(parley);
  const target = shard(groupConversationId);
  const onShard: Pair[] = [];
  const others: Pair[] = [];
  while (onShard.length < count) {
    for (const pair of await createPairs(parley, 4)) (shard(pair.conversationId) === target && onShard.length < count ? onShard : others).push(pair);
  }
  return { onShard, others };
}

export async function measureGroupInterference(
  parley: ParleyLocal,
  group: { sender: BenchDevice; conversationId: string; groupVersion: number; firstSeq: number },
  options: { rate: number; seconds: number; conversations: number },
): Promise<GroupInterferenceRun> {
  const { onShard, others } = await pairsOnShard(parley, group.conversationId, options.conversations);
  await settle(parley);
  const alone = await runAtRate(onShard, options.rate, options.seconds);
  await settle(parley, 400, 60_000);
  let seq = group.firstSeq;
  let sending = true;
  let groupMessages = 0;
  const groupTraffic = (async () => {
    // The first group message lands a little into the run, then one a second.
    await sleep(300);
    while (sending) {
      const frame = { action: 'GROUP_SEND', msgId: randomUUID(), conversationId: group.conversationId, seq: seq++, groupVersion: group.groupVersion, ciphertext: randomBytes(160).toString('base64') };
      const ack = await group.sender.request(frame);
      if (ack.type !== 'ACK') throw new Error(`GROUP_SEND refused: ${JSON.stringify(ack)}`);
      groupMessages++;
      await sleep(1000);
    }
  })();
  const withGroupFanout = await runAtRate(onShard, options.rate, options.seconds);
  sending = false;
  await groupTraffic;
  await settle(parley, 400, 60_000);
  await Promise.all([...onShard, ...others].flatMap((pair) => [...pair.alice, ...pair.bob]).map((device) => device.close()));
  const parallelization = functions.fanout.consumes.parallelizationFactor;
  const shard = await shardOf(parley);
  const placementOf = (partitionKey: string): ConversationPlacement => ({ partitionKey, shardId: shard(partitionKey), lane: laneOfKey(partitionKey, parallelization) });
  const ratio = alone.pushLatencyMs.p99 && withGroupFanout.pushLatencyMs.p99 ? Math.round((withGroupFanout.pushLatencyMs.p99 / alone.pushLatencyMs.p99) * 100) / 100 : null;
  return {
    rate: options.rate,
    seconds: options.seconds,
    conversations: onShard.length,
    alone: alone.pushLatencyMs,
    withGroupFanout: withGroupFanout.pushLatencyMs,
    groupMessages,
    inTheGroupsBatches: onShard.filter((pair) => laneOfKey(pair.conversationId, parallelization) === laneOfKey(group.conversationId, parallelization)).length,
    p99Ratio: ratio,
    placement: { parallelization, group: placementOf(group.conversationId), conversations: onShard.map((pair) => placementOf(pair.conversationId)) },
  };
}
