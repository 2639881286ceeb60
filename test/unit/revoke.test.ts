import { mockClient } from 'aws-sdk-client-mock';
import { BatchGetCommand, BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { handler as revoke } from '../../lambdas/send/revoke';
import { handler as fanout } from '../../lambdas/fanout/fanout';
import { directConversationId } from '../../lambdas/send/conversations';
import { REVOKE_WINDOW_MS } from '../../lambdas/protocol/frames';
import { queueItemOf } from '../../lambdas/tables/device-queues';
import { kinesisRecord, messageEvent, mockDeps, NOW, routeCheckPasses, USER } from '../fixtures/aws-events';

const db = mockClient(DynamoDBDocumentClient);
const kinesis = mockClient(KinesisClient);
const deps = mockDeps();
const BOB = '7a3e1c2b-9d8f-4e6a-b5c4-3d2e1f0a9b8c';
const MSG = '9f1c2b3a-4d5e-4f60-8a7b-6c5d4e3f2a1b';
const GROUP = '0d6f3b5e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const conversationId = directConversationId(USER, BOB);
const accepted = (serverTs: number, sender = `${USER}.1`, conversation = conversationId) => ({
  Item: { msgId: MSG, sender, conversationId: conversation, serverTs, expiresAt: Math.ceil((serverTs + 30 * 86400_000) / 1000) },
});
const position = (serverTs: number) => `${String(serverTs).padStart(13, '0')}#${MSG}`;

async function run(callerDevice = 1) {
  const event = messageEvent('REVOKE', JSON.stringify({ action: 'REVOKE', requestId: 'r', msgId: MSG }), 'conn-1=', { userId: USER, deviceId: callerDevice });
  return JSON.parse((await revoke.withDeps(deps)(event)).body!);
}

/** A group message's place in its group's timeline: after the serverTs's own position, as the fanout may append it. */
const timelinePosition = `${String(NOW - 500).padStart(13, '0')}#${MSG}`;

/** The caller's group message, accepted a second ago. */
const groupAccepted = () => db.on(GetCommand, { TableName: 'parley-acceptedMessages' }).resolves(accepted(NOW - 1000, `${USER}.1`, `group:${GROUP}`));

beforeEach(() => {
  db.reset();
  kinesis.reset();
  routeCheckPasses(db);
  db.on(UpdateCommand).resolves({});
  db.on(DeleteCommand).resolves({});
  db.on(BatchWriteCommand).resolves({});
  kinesis.on(PutRecordCommand).resolves({ SequenceNumber: '1', ShardId: 'shardId-000000000000' });
  db.on(QueryCommand, { ExpressionAttributeValues: { ':u': BOB } }).resolves({ Items: [{ userId: BOB, deviceId: 1 }, { userId: BOB, deviceId: 2 }] });
  db.on(QueryCommand, { ExpressionAttributeValues: { ':u': USER } }).resolves({ Items: [{ userId: USER, deviceId: 1 }, { userId: USER, deviceId: 2 }] });
});

describe('REVOKE', () => {
  it('marks the message revoked, deletes its copy on every device of both members but the sending one, counts what it took, and puts a revoke record after it', async () => {
    const serverTs = NOW - 1000;
    db.on(GetCommand, { TableName: 'parley-acceptedMessages' }).resolves(accepted(serverTs));
    db.on(DeleteCommand, { Key: { device: `${BOB}#2`, position: position(serverTs) } }).resolves({ Attributes: { device: `${BOB}#2` } });
    expect(await run()).toEqual({ type: 'REVOKE_ACK', msgId: MSG, dropped: 1, requestId: 'r' });
    const keys = db.commandCalls(DeleteCommand).map((call) => call.args[0].input.Key);
    expect(keys).toEqual([`${BOB}#1`, `${BOB}#2`, `${USER}#2`].map((device) => ({ device, position: position(serverTs) })));
    expect(db.commandCalls(QueryCommand, { TableName: 'parley-deviceQueues' })).toEqual([]);
    expect(db.commandCalls(UpdateCommand).map((call) => call.args[0].input)).toEqual([
      expect.objectContaining({ TableName: 'parley-acceptedMessages', Key: { msgId: MSG }, UpdateExpression: 'SET revoked = :true' }),
    ]);
    const [put] = kinesis.commandCalls(PutRecordCommand).map((call) => call.args[0].input);
    expect(put!.PartitionKey).toBe(conversationId);
    expect(JSON.parse(Buffer.from(put!.Data!).toString())).toEqual({ kind: 'revoke', msgId: MSG, conversationId, from: { userId: USER, deviceId: 1 }, serverTs });
  });

  it('withdraws a group message from its timeline at the position its tally keeps (no per-device copies), once, and always streams the revoke record', async () => {
    groupAccepted();
    // Not the serverTs's position: the fanout appended it after a later-stamped message.
    db.on(GetCommand, { TableName: 'parley-groupReceipts' }).resolves({ Item: { msgId: MSG, groupId: GROUP, position: timelinePosition } });
    expect(await run()).toEqual({ type: 'REVOKE_ACK', msgId: MSG, dropped: 1, requestId: 'r' });
    expect(db.commandCalls(UpdateCommand).map((call) => call.args[0].input)).toEqual([
      expect.objectContaining({ TableName: 'parley-acceptedMessages', Key: { msgId: MSG } }),
      expect.objectContaining({
        TableName: 'parley-groupTimeline',
        Key: { conversationId: `group:${GROUP}`, position: timelinePosition },
        UpdateExpression: 'SET revoked = :true REMOVE #frame',
        ConditionExpression: 'attribute_exists(conversationId) AND attribute_not_exists(revoked)',
      }),
    ]);
    expect(db.commandCalls(DeleteCommand)).toEqual([]);
    expect(db.commandCalls(BatchWriteCommand)).toEqual([]);
    expect(kinesis.commandCalls(PutRecordCommand)).toHaveLength(1);
    // Withdrawn before: the condition fails, nothing is dropped.
    db.on(UpdateCommand, { TableName: 'parley-groupTimeline' }).rejects(new ConditionalCheckFailedException({ message: 'withdrawn', $metadata: {} }));
    expect(await run()).toMatchObject({ type: 'REVOKE_ACK', dropped: 0 });
    expect(kinesis.commandCalls(PutRecordCommand)).toHaveLength(2);
  });

  it('answers dropped 0 for a group message its fan-out has not stored yet (no tally), and leaves it to the revoke record', async () => {
    groupAccepted();
    db.on(GetCommand, { TableName: 'parley-groupReceipts' }).resolves({});
    expect(await run()).toEqual({ type: 'REVOKE_ACK', msgId: MSG, dropped: 0, requestId: 'r' });
    expect(db.commandCalls(UpdateCommand, { TableName: 'parley-groupTimeline' })).toEqual([]);
    expect(kinesis.commandCalls(PutRecordCommand)).toHaveLength(1);
  });

  it('is allowed at exactly 48 hours and refused a millisecond later, with nothing deleted, marked or streamed', async () => {
    db.on(GetCommand, { TableName: 'parley-acceptedMessages' }).resolves(accepted(NOW - REVOKE_WINDOW_MS));
    expect(await run()).toMatchObject({ type: 'REVOKE_ACK', dropped: 0 });
    db.reset();
    kinesis.reset();
    routeCheckPasses(db);
    db.on(GetCommand, { TableName: 'parley-acceptedMessages' }).resolves(accepted(NOW - REVOKE_WINDOW_MS - 1));
    expect(await run()).toMatchObject({ type: 'ERROR', code: 'REVOKE_WINDOW_PASSED' });
    expect(db.commandCalls(DeleteCommand)).toEqual([]);
    expect(db.commandCalls(UpdateCommand)).toEqual([]);
    expect(kinesis.commandCalls(PutRecordCommand)).toEqual([]);
  });

  it('answers NOT_FOUND alike for an unknown msgId and another account’s, in a group too, and deletes nothing', async () => {
    db.on(GetCommand, { TableName: 'parley-acceptedMessages' }).resolves({});
    expect(await run()).toMatchObject({ type: 'ERROR', code: 'NOT_FOUND' });
    db.on(GetCommand, { TableName: 'parley-acceptedMessages' }).resolves(accepted(NOW - 1000, `${BOB}.1`));
    expect(await run()).toMatchObject({ type: 'ERROR', code: 'NOT_FOUND' });
    db.on(GetCommand, { TableName: 'parley-acceptedMessages' }).resolves(accepted(NOW - 1000, `${BOB}.1`, `group:${GROUP}`));
    expect(await run()).toMatchObject({ type: 'ERROR', code: 'NOT_FOUND' });
    expect(db.commandCalls(DeleteCommand)).toEqual([]);
    expect(db.commandCalls(BatchWriteCommand)).toEqual([]);
    expect(db.commandCalls(UpdateCommand)).toEqual([]);
    expect(kinesis.commandCalls(PutRecordCommand)).toEqual([]);
  });
});

describe('the fanout, for a revoke record', () => {
  const revokeRecord = (conversation: string, serverTs = NOW - 1000) =>
    kinesisRecord({ kind: 'revoke', msgId: MSG, conversationId: conversation, from: { userId: USER, deviceId: 1 }, serverTs }, conversation, '49591');

  it('deletes the copies its message’s fan-out wrote, and takes it out of the recipient’s unread count only while it is the newest, once', async () => {
    expect(await fanout.withDeps(deps)({ Records: [revokeRecord(conversationId)] })).toEqual({ batchItemFailures: [] });
    expect(db.commandCalls(DeleteCommand).map((call) => call.args[0].input.Key!.device)).toEqual([`${BOB}#1`, `${BOB}#2`, `${USER}#2`]);
    const updates = db.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(updates.filter((input) => input.UpdateExpression!.includes('REMOVE preview')).map((input) => input.Key)).toEqual([
      { userId: USER, conversationId },
      { userId: BOB, conversationId },
    ]);
    const uncount = updates.filter((input) => input.UpdateExpression!.includes('unreadCount'));
    expect(uncount).toEqual([
      expect.objectContaining({
        Key: { userId: BOB, conversationId },
        UpdateExpression: 'ADD unreadCount :minusOne SET uncountedMsgId = :m',
        ConditionExpression: 'lastMsgId = :m AND unreadCount > :zero AND (attribute_not_exists(uncountedMsgId) OR uncountedMsgId <> :m)',
      }),
    ]);
  });

  it('withdraws a group message from its timeline at its tally’s position (no longer handed out at SYNC, unread or previewed), and touches no queue or chat-list row', async () => {
    db.on(GetCommand, { TableName: 'parley-groupReceipts' }).resolves({ Item: { msgId: MSG, groupId: GROUP, position: timelinePosition } });
    expect(await fanout.withDeps(deps)({ Records: [revokeRecord(`group:${GROUP}`)] })).toEqual({ batchItemFailures: [] });
    expect(db.commandCalls(BatchWriteCommand)).toEqual([]);
    expect(db.commandCalls(DeleteCommand)).toEqual([]);
    expect(db.commandCalls(UpdateCommand).map((call) => call.args[0].input)).toEqual([
      expect.objectContaining({ TableName: 'parley-groupTimeline', Key: { conversationId: `group:${GROUP}`, position: timelinePosition }, UpdateExpression: 'SET revoked = :true REMOVE #frame' }),
    ]);
  });

  it('delivers a late message record (retried or redriven) to nobody when its sender revoked it meanwhile, and reads nothing for one on time', async () => {
    const message = (serverTs: number) =>
      kinesisRecord(
        { kind: 'message', msgId: MSG, conversationId, from: { userId: USER, deviceId: 1 }, to: BOB, seq: 1, serverTs, envelopes: [{ userId: BOB, deviceId: 1, registrationId: 7, type: 'message', ciphertext: 'AAAA' }] },
        conversationId,
        '49592',
      );
    db.on(GetCommand, { TableName: 'parley-acceptedMessages' }).resolves({ Item: { ...accepted(NOW - 120_000).Item, revoked: true } });
    db.on(BatchGetCommand).resolves({ Responses: { 'parley-routing': [] } });
    await fanout.withDeps(deps)({ Records: [message(NOW - 120_000)] });
    expect(db.commandCalls(BatchWriteCommand)).toEqual([]);
    await fanout.withDeps(deps)({ Records: [message(NOW - 1000)] });
    expect(db.commandCalls(GetCommand, { TableName: 'parley-acceptedMessages' })).toHaveLength(1);
    expect(db.commandCalls(BatchWriteCommand)).toHaveLength(1);
  });
});

describe('queueItemOf', () => {
  const frame = { type: 'PUSH', msgId: MSG, conversationId, from: { userId: USER, deviceId: 1 }, seq: 1, serverTs: NOW, envelope: { type: 'message', ciphertext: 'AAAA' }, cursor: position(NOW) } as const;
  it('expires a copy after the chat’s timer when it is shorter than 30 days, never later than 30 days', () => {
    expect(queueItemOf(BOB, 1, frame).expiresAt).toBe(NOW / 1000 + 30 * 86400);
    expect(queueItemOf(BOB, 1, frame, 86400).expiresAt).toBe(NOW / 1000 + 86400);
    expect(queueItemOf(BOB, 1, frame, 90 * 86400).expiresAt).toBe(NOW / 1000 + 30 * 86400);
  });
});
