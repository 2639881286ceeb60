/**
 * Whether a large group's fan-out holds up 1:1 conversations: 1:1 delivery latency (SEND → PUSH) at a low
 * rate over a few conversations, alone and while the group's messages fan out alongside, one a second.
 * The two take turns over several rounds and each pools its rounds' latencies, so that a p99 is of some
 * hundreds of messages and the machine's drift (other jobs, V8 warming up) falls on both alike rather than
 * on whichever ran second. Group conversations' records go to a stream of their own (`groupMessages`,
 * consumed by `groupFanout`), so the 1:1 conversations never share a shard or a lane with the group: what
 * is left is the CPU both fanouts share here (on AWS each invocation has its own).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ListShardsCommand, type Shard } from '@aws-sdk/client-kinesis';
import type { ParleyLocal } from '../local/runtime';
import { functions } from '../lambdas/functions';
import { streams, type StreamId } from '../lambdas/resources';
import { streamOfConversation } from '../lambdas/send/message-stream';
import { laneOfKey } from '../local/kinesis/concurrent-batches';
import type { BenchDevice } from './device';
import { runAtRate } from './latency';
import { createPairs } from './population';
import { settle } from './settle';
import { sleep, summarize, type LatencySummary } from './stats';

export interface GroupInterferenceRun {
  readonly rate: number;
  /** Seconds of 1:1 traffic alone, and as many beside the group's: `rounds` turns of each. */
  readonly seconds: number;
  readonly rounds: number;
  readonly conversations: number;
  /** 1:1 SEND → PUSH with no group traffic, every round's. */
  readonly alone: LatencySummary;
  /** The same, while a message to the group fans out every second, every round's. */
  readonly withGroupFanout: LatencySummary;
  /** Each round's p99 ratio (beside the fan-out over alone): how far one short run may stray. */
  readonly roundRatios: readonly (number | null)[];
  readonly groupMessages: number;
  /**
   * Of `conversations`, those whose records go to the same stream, shard and concurrent batch (Lambda's
   * parallelization factor; the local event source's hash of the key) as the group's: they would wait for
   * its fan-out. None since groups have their own stream; counted from where the records went, not assumed.
   */
  readonly inTheGroupsBatches: number;
  /** p99 with the group's fan-out over p99 alone (the target: ≤ 2). */
  readonly p99Ratio: number | null;
  /**
   * Where each conversation's records went, the group's first: its stream (`groupMessages` for the group,
   * `messages` for the 1:1 conversations, as `putOnMessageStream` chooses), its partition key (the
   * conversation id), its shard on that stream, and its lane among the shard's concurrent batches (of
   * `parallelization`). The 1:1 conversations are picked at random.
   */
  readonly placement: {
    readonly parallelization: number;
    readonly group: ConversationPlacement;
    readonly conversations: readonly ConversationPlacement[];
  };
}

export interface ConversationPlacement {
  readonly stream: StreamId;
  readonly partitionKey: string;
  readonly shardId: string;
  readonly lane: number;
}

/** The shard a partition key lands on, on each stream: the one whose hash-key range holds the key's MD5, as Kinesis maps it. */
async function shardsOf(parley: ParleyLocal): Promise<(stream: StreamId, partitionKey: string) => string> {
  const shardsByStream = new Map<StreamId, Shard[]>();
  for (const stream of Object.keys(streams) as StreamId[]) {
    const { Shards = [] } = await parley.clients.kinesis.send(new ListShardsCommand({ StreamName: parley.resources.streams[stream] }));
    shardsByStream.set(stream, Shards);
  }
  return (stream, partitionKey) => {
    const hash = BigInt(`0x${createHash('md5').update(partitionKey).digest('hex')}`);
    const shard = shardsByStream.get(stream)!.find((s) => BigInt(s.HashKeyRange!.StartingHashKey!) <= hash && hash <= BigInt(s.HashKeyRange!.EndingHashKey!));
    return shard!.ShardId!;
  };
}

export async function measureGroupInterference(
  parley: ParleyLocal,
  group: { sender: BenchDevice; conversationId: string; groupVersion: number; firstSeq: number },
  options: { rate: number; seconds: number; conversations: number; rounds: number },
): Promise<GroupInterferenceRun> {
  const pairs = await createPairs(parley, options.conversations);
  await settle(parley);
  let seq = group.firstSeq;
  let groupMessages = 0;
  /** Group messages, the first a little into the window, then one a second until `sending()` says stop. */
  const groupTraffic = async (sending: () => boolean) => {
    await sleep(300);
    while (sending()) {
      const frame = { action: 'GROUP_SEND', msgId: randomUUID(), conversationId: group.conversationId, seq: seq++, groupVersion: group.groupVersion, ciphertext: randomBytes(160).toString('base64') };
      const ack = await group.sender.request(frame);
      if (ack.type !== 'ACK') throw new Error(`GROUP_SEND refused: ${JSON.stringify(ack)}`);
      groupMessages++;
      await sleep(1000);
    }
  };
  const alone: number[] = [];
  const beside: number[] = [];
  const roundRatios: (number | null)[] = [];
  const window = options.seconds / options.rounds;
  for (let round = 0; round < options.rounds; round++) {
    const aloneRun = await runAtRate(pairs, options.rate, window, undefined, alone);
    await settle(parley, 400, 60_000);
    let sending = true;
    const traffic = groupTraffic(() => sending);
    const besideRun = await runAtRate(pairs, options.rate, window, undefined, beside);
    sending = false;
    await traffic;
    await settle(parley, 400, 60_000);
    roundRatios.push(ratioOf(aloneRun.pushLatencyMs, besideRun.pushLatencyMs));
  }
  await Promise.all(pairs.flatMap((pair) => [...pair.alice, ...pair.bob]).map((device) => device.close()));
  const parallelization = functions.fanout.consumes.parallelizationFactor;
  const shardOf = await shardsOf(parley);
  const placementOf = (partitionKey: string): ConversationPlacement => {
    const stream = streamOfConversation(partitionKey);
    return { stream, partitionKey, shardId: shardOf(stream, partitionKey), lane: laneOfKey(partitionKey, parallelization) };
  };
  const groupPlacement = placementOf(group.conversationId);
  const placements = pairs.map((pair) => placementOf(pair.conversationId));
  const sharesGroupsLane = (placement: ConversationPlacement) =>
    placement.stream === groupPlacement.stream && placement.shardId === groupPlacement.shardId && placement.lane === groupPlacement.lane;
  const aloneSummary = summarize(alone);
  const besideSummary = summarize(beside);
  return {
    rate: options.rate,
    seconds: options.seconds,
    rounds: options.rounds,
    conversations: pairs.length,
    alone: aloneSummary,
    withGroupFanout: besideSummary,
    roundRatios,
    groupMessages,
    inTheGroupsBatches: placements.filter(sharesGroupsLane).length,
    p99Ratio: ratioOf(aloneSummary, besideSummary),
    placement: { parallelization, group: groupPlacement, conversations: placements },
  };
}

/** p99 beside the fan-out over p99 alone, to two decimals. */
const ratioOf = (alone: LatencySummary, beside: LatencySummary): number | null =>
  alone.p99 && beside.p99 ? Math.round((beside.p99 / alone.p99) * 100) / 100 : null;
