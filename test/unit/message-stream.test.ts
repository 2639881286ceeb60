/** Which stream a record goes to: its conversation's kind, so a group's fan-out never shares a lane with a 1:1 conversation. */
import { mockClient } from 'aws-sdk-client-mock';
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { randomUUID } from 'node:crypto';
import { putOnMessageStream, streamOfConversation } from '../../lambdas/send/message-stream';
import { directConversationId, groupConversationId } from '../../lambdas/send/conversations';
import type { StreamRecord } from '../../lambdas/protocol/stream-records';
import { mockDeps } from '../fixtures/aws-events';

const kinesis = mockClient(KinesisClient);
const deps = mockDeps();

const receipt = (conversationId: string): StreamRecord => ({
  kind: 'receipt',
  receiptId: randomUUID(),
  status: 'read',
  conversationId,
  msgIds: [randomUUID()],
  by: { userId: randomUUID(), deviceId: 1 },
  recipients: [randomUUID()],
  serverTs: 1,
});

beforeEach(() => {
  kinesis.reset();
  kinesis.on(PutRecordCommand).resolves({ ShardId: 'shardId-000000000000', SequenceNumber: '1' });
});

it('chooses the stream by the conversation: groups on groupMessages, 1:1 on messages', () => {
  expect(streamOfConversation(groupConversationId(randomUUID()))).toBe('groupMessages');
  expect(streamOfConversation(directConversationId(randomUUID(), randomUUID()))).toBe('messages');
});

it.each([
  ['a 1:1 conversation', directConversationId(randomUUID(), randomUUID()), 'parley-messages'],
  ['a group conversation', groupConversationId(randomUUID()), 'parley-groupMessages'],
])('puts a record of %s on its stream, keyed by the conversation', async (_, conversationId, streamName) => {
  await putOnMessageStream(deps, receipt(conversationId));
  const puts = kinesis.commandCalls(PutRecordCommand).map((call) => call.args[0].input);
  expect(puts).toEqual([expect.objectContaining({ StreamName: streamName, PartitionKey: conversationId })]);
});
