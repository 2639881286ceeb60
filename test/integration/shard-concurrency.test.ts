/**
 * A slow conversation holds up no other on its stream shard: the fanout's event source runs several
 * batches of a shard at once (Lambda's parallelization factor), each conversation's records in one of
 * them and in order. Here the fanout of one conversation's records is held, as a 1,024-member group's
 * fan-out holds its batch for a second, while another conversation on the same shard is delivered.
 */
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import { functions } from '../../lambdas/functions';
import { directConversationId } from '../../lambdas/send/conversations';
import { laneOfKey } from '../../local/kinesis/concurrent-batches';
import { hashKeyOf } from '../../local/kinesis/put-feed';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { connectDevice, registerAccount, type DeviceSocket, type TestDevice } from '../support/device-client';
import { directMessage } from '../support/direct-message';

let parley: ParleyLocal;
/** The conversation whose fanout invocations wait for `release`. */
let slowConversation = '';
let release!: () => void;
const released = new Promise<void>((resolve) => (release = resolve));
let announceHeld!: () => void;
const held = new Promise<void>((resolve) => (announceHeld = resolve));

beforeAll(async () => {
  parley = await startParleyLocal({
    webSocketPort: 0,
    httpPort: 0,
    intercept: (id, invoke) =>
      id !== 'fanout'
        ? invoke
        : async (event) => {
            if ((event as KinesisStreamEvent).Records.some((record) => record.kinesis.partitionKey === slowConversation)) {
              announceHeld();
              await released;
            }
            return invoke(event);
          },
  });
});
afterAll(async () => {
  release();
  await parley?.stop();
});

/** The shard a partition key lands on, by the hash key ranges of the local stream's shards. */
async function shardOfKey(): Promise<(partitionKey: string) => string | undefined> {
  const { Shards = [] } = await parley.clients.kinesis.send(new ListShardsCommand({ StreamName: parley.resources.streams.messages }));
  return (partitionKey) => {
    const hashKey = hashKeyOf({ PartitionKey: partitionKey });
    return Shards.find(({ HashKeyRange: range }) => BigInt(range!.StartingHashKey!) <= hashKey && hashKey <= BigInt(range!.EndingHashKey!))?.ShardId;
  };
}

const send = (socket: DeviceSocket, from: TestDevice, to: TestDevice, seq: number) => {
  const frame = directMessage(from, to, seq);
  socket.send(frame);
  return socket.next((f) => f.requestId === frame.requestId, 30_000);
};

it('delivers a conversation while another on the same shard is held, and the held one in order after', async () => {
  const parallelization = functions.fanout.consumes.parallelizationFactor;
  const shardOf = await shardOfKey();
  const alice = await registerAccount(parley, '+14155557000');
  const carol = await registerAccount(parley, '+14155557001');
  slowConversation = directConversationId(alice.userId, carol.userId);
  // Someone whose conversation with Alice shares the slow one's shard but not its batches.
  let bob: TestDevice | undefined;
  for (let n = 2; !bob && n < 60; n++) {
    const candidate = await registerAccount(parley, `+1415555${String(7000 + n)}`);
    const conversationId = directConversationId(alice.userId, candidate.userId);
    if (shardOf(conversationId) === shardOf(slowConversation) && laneOfKey(conversationId, parallelization) !== laneOfKey(slowConversation, parallelization)) bob = candidate;
  }
  expect(bob).toBeDefined();
  const [aliceSocket, carolSocket, bobSocket] = await Promise.all([alice, carol, bob!].map((device) => connectDevice(parley, device)));

  expect(await send(aliceSocket, alice, carol, 1)).toMatchObject({ type: 'ACK' });
  await held;
  expect(await send(aliceSocket, alice, carol, 2)).toMatchObject({ type: 'ACK' });
  expect(await send(aliceSocket, alice, bob!, 1)).toMatchObject({ type: 'ACK' });

  // Bob has his message while Carol's first is still held in its fan-out.
  expect(await bobSocket.next((f) => f.type === 'PUSH', 10_000)).toMatchObject({ conversationId: directConversationId(alice.userId, bob!.userId), seq: 1 });
  await expect(carolSocket.next((f) => f.type === 'PUSH', 200)).rejects.toThrow('no matching frame');

  release();
  const first = await carolSocket.next((f) => f.type === 'PUSH', 10_000);
  const second = await carolSocket.next((f) => f.type === 'PUSH', 10_000);
  expect([first.seq, second.seq]).toEqual([1, 2]);
  await Promise.all([aliceSocket, carolSocket, bobSocket].map((socket) => socket.close()));
}, 120_000);
