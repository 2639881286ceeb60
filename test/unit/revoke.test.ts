import { mockClient } from 'aws-sdk-client-mock';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { handler as revoke } from '../../lambdas/send/revoke';
import { directConversationId } from '../../lambdas/send/conversations';
import { REVOKE_WINDOW_MS } from '../../lambdas/protocol/frames';
import { queueItemOf } from '../../lambdas/tables/device-queues';
import { messageEvent, mockDeps, NOW, routeCheckPasses, USER } from '../fixtures/aws-events';

const db = mockClient(DynamoDBDocumentClient);
const deps = mockDeps();
const BOB = '7a3e1c2b-9d8f-4e6a-b5c4-3d2e1f0a9b8c';
const MSG = '9f1c2b3a-4d5e-4f60-8a7b-6c5d4e3f2a1b';
const conversationId = directConversationId(USER, BOB);
const accepted = (serverTs: number, sender = `${USER}.1`, conversation = conversationId) => ({
  Item: { msgId: MSG, sender, conversationId: conversation, serverTs, expiresAt: Math.ceil((serverTs + 30 * 86400_000) / 1000) },
});
const position = (serverTs: number) => `${String(serverTs).padStart(13, '0')}#${MSG}`;

async function run(callerDevice = 1) {
  const event = messageEvent('REVOKE', JSON.stringify({ action: 'REVOKE', requestId: 'r', msgId: MSG }), 'conn-1=', { userId: USER, deviceId: callerDevice });
  return JSON.parse((await revoke.withDeps(deps)(event)).body!);
}

beforeEach(() => {
  db.reset();
  routeCheckPasses(db);
  db.on(UpdateCommand).resolves({});
  db.on(DeleteCommand).resolves({});
  db.on(QueryCommand, { ExpressionAttributeValues: { ':u': BOB } }).resolves({ Items: [{ userId: BOB, deviceId: 1 }, { userId: BOB, deviceId: 2 }] });
  db.on(QueryCommand, { ExpressionAttributeValues: { ':u': USER } }).resolves({ Items: [{ userId: USER, deviceId: 1 }, { userId: USER, deviceId: 2 }] });
});

describe('REVOKE', () => {
  it('deletes the copy at the message’s queue key on every device of both members but the sending one, and counts what it took', async () => {
    const serverTs = NOW - 1000;
    db.on(GetCommand, { TableName: 'parley-acceptedMessages' }).resolves(accepted(serverTs));
    db.on(DeleteCommand, { Key: { device: `${BOB}#2`, position: position(serverTs) } }).resolves({ Attributes: { device: `${BOB}#2` } });
    expect(await run()).toEqual({ type: 'REVOKE_ACK', msgId: MSG, dropped: 1, requestId: 'r' });
    const keys = db.commandCalls(DeleteCommand).map((call) => call.args[0].input.Key);
    expect(keys).toEqual([`${BOB}#1`, `${BOB}#2`, `${USER}#2`].map((device) => ({ device, position: position(serverTs) })));
    expect(db.commandCalls(QueryCommand, { TableName: 'parley-deviceQueues' })).toEqual([]);
  });

  it('is allowed at exactly 48 hours and refused a millisecond later, with nothing deleted', async () => {
    db.on(GetCommand, { TableName: 'parley-acceptedMessages' }).resolves(accepted(NOW - REVOKE_WINDOW_MS));
    expect(await run()).toMatchObject({ type: 'REVOKE_ACK', dropped: 0 });
    db.reset();
    routeCheckPasses(db);
    db.on(GetCommand, { TableName: 'parley-acceptedMessages' }).resolves(accepted(NOW - REVOKE_WINDOW_MS - 1));
    expect(await run()).toMatchObject({ type: 'ERROR', code: 'REVOKE_WINDOW_PASSED' });
    expect(db.commandCalls(DeleteCommand)).toEqual([]);
    expect(db.commandCalls(UpdateCommand)).toEqual([]);
  });

  it('answers NOT_FOUND alike for an unknown msgId and another account’s, and NOT_REVOCABLE for a group message', async () => {
    db.on(GetCommand, { TableName: 'parley-acceptedMessages' }).resolves({});
    expect(await run()).toMatchObject({ type: 'ERROR', code: 'NOT_FOUND' });
    db.on(GetCommand, { TableName: 'parley-acceptedMessages' }).resolves(accepted(NOW - 1000, `${BOB}.1`));
    expect(await run()).toMatchObject({ type: 'ERROR', code: 'NOT_FOUND' });
    db.on(GetCommand, { TableName: 'parley-acceptedMessages' }).resolves(accepted(NOW - 1000, `${USER}.1`, 'group:0d6f3b5e-1a2b-4c3d-8e9f-0a1b2c3d4e5f'));
    expect(await run()).toMatchObject({ type: 'ERROR', code: 'NOT_REVOCABLE' });
    expect(db.commandCalls(DeleteCommand)).toEqual([]);
  });

  it('takes the message out of the recipient’s unread count only while it is the newest message', async () => {
    db.on(GetCommand, { TableName: 'parley-acceptedMessages' }).resolves(accepted(NOW - 1000));
    await run(2);
    const uncount = db.commandCalls(UpdateCommand).map((call) => call.args[0].input).filter((input) => input.UpdateExpression!.includes('unreadCount'));
    expect(uncount).toEqual([expect.objectContaining({ Key: { userId: BOB, conversationId }, ConditionExpression: 'lastMsgId = :m AND unreadCount > :zero' })]);
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
