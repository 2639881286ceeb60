import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { handler as sync } from '../../lambdas/sync/sync';
import { CLOCK_SKEW_MS, MAX_SYNC_DELIVERY_STATES } from '../../lambdas/sync/queue-sync';
import { webSocketLimits } from '../../lambdas/protocol/limits';
import { MAX_CIPHERTEXT_CHARS } from '../../lambdas/protocol/frames';
import { messageEvent, mockDeps, NOW, routeCheckPasses, USER } from '../fixtures/aws-events';

const db = mockClient(DynamoDBDocumentClient);
const deps = mockDeps();
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const position = (n: number) => `${String(NOW + n).padStart(13, '0')}#${id(n)}`;

/** A queued PUSH whose ciphertext is `bytes` long once base64-encoded. */
function queued(n: number, bytes = 8, expiresAt = NOW / 1000 + 3600) {
  return {
    device: `${USER}#1`,
    position: position(n),
    expiresAt,
    frame: {
      type: 'PUSH',
      msgId: id(n),
      conversationId: 'direct:a:b',
      from: { userId: 'a', deviceId: 1 },
      seq: n,
      serverTs: NOW + n,
      envelope: { type: 'message', ciphertext: 'A'.repeat(bytes) },
      cursor: position(n),
    },
  };
}

async function syncFrom(cursor?: string, receiptsAfter?: number) {
  const body = JSON.stringify({ action: 'SYNC', requestId: 'r', ...(cursor ? { cursor } : {}), ...(receiptsAfter !== undefined ? { receiptsAfter } : {}) });
  const answer = await sync.withDeps(deps)(messageEvent('SYNC', body, 'conn=', { userId: USER, deviceId: 1 }));
  return { answer: JSON.parse((answer as { body: string }).body), bytes: Buffer.byteLength((answer as { body: string }).body) };
}

/** The delivery state of conversation `n` on the caller's row: delivered up to NOW + n, changed at NOW + 100 + n. */
const deliveryState = (n: number) => ({
  conversationId: `direct:${USER}:${id(n)}`,
  deliveredUpTo: NOW + n,
  deliveredMsgIds: [id(n)],
  deliveredBy: { userId: id(n), deviceId: 2 },
  deliveredAt: NOW + 100 + n,
});
const deliveryStates = (...states: object[]) => db.on(QueryCommand, { TableName: 'parley-conversations' }).resolves({ Items: states });
/** The reads of the user's conversations (its group rows and its delivery states come from one). */
const conversationQueries = () => db.commandCalls(QueryCommand).filter((call) => call.args[0].input.TableName === 'parley-conversations').map((call) => call.args[0].input);
/** The read of the device's queue. */
const queueQuery = () => db.commandCalls(QueryCommand).find((call) => call.args[0].input.TableName === 'parley-deviceQueues')!.args[0].input;
const receiptsIn = (answer: { frames: { type: string }[] }) => answer.frames.filter((f) => f.type === 'RECEIPT');

beforeEach(() => {
  db.reset();
  routeCheckPasses(db);
  deliveryStates();
  // The device is unknown to the devices table, so no group's timeline is read: SYNC reads its queue alone
  // (group timelines: test/integration/groups.test.ts). Its group rows are read beside the device, and it has none.
  db.on(GetCommand, { TableName: 'parley-devices' }).resolves({});
});

describe('SYNC', () => {
  it('answers the last page of the queue as QUEUE_EMPTY with its frames, in order', async () => {
    db.on(QueryCommand, { TableName: 'parley-deviceQueues' }).resolves({ Items: [queued(1), queued(2)] });
    const { answer } = await syncFrom();
    expect(answer).toMatchObject({ type: 'QUEUE_EMPTY', requestId: 'r' });
    expect(answer.frames.map((f: { msgId: string }) => f.msgId)).toEqual([id(1), id(2)]);
    expect(queueQuery()).toMatchObject({ Limit: 100, ConsistentRead: true });
  });

  it('answers SYNC_PAGE with the cursor to continue from when the queue has more', async () => {
    db.on(QueryCommand, { TableName: 'parley-deviceQueues' }).resolves({ Items: [queued(1), queued(2)], LastEvaluatedKey: { device: `${USER}#1`, position: position(2) } });
    const { answer } = await syncFrom(position(0));
    expect(answer).toMatchObject({ type: 'SYNC_PAGE', cursor: position(2) });
    expect(queueQuery().ExpressionAttributeValues).toMatchObject({ ':after': position(0) });
  });

  it('ends a page before it would outgrow one API Gateway message, and continues after its last frame', async () => {
    // Two 60 KB messages fit one answer, a third would not.
    const big = 60_000;
    db.on(QueryCommand, { TableName: 'parley-deviceQueues' }).resolves({ Items: [queued(1, big), queued(2, big), queued(3, big)] });
    const { answer, bytes } = await syncFrom();
    expect(answer).toMatchObject({ type: 'SYNC_PAGE', cursor: position(2) });
    expect(answer.frames).toHaveLength(2);
    expect(bytes).toBeLessThanOrEqual(webSocketLimits.messageBytes);
  });

  it('sends a single message of the largest size alone, within one API Gateway message', async () => {
    const largest = MAX_CIPHERTEXT_CHARS;
    db.on(QueryCommand, { TableName: 'parley-deviceQueues' }).resolves({ Items: [queued(1, largest), queued(2, largest)] });
    const { answer, bytes } = await syncFrom();
    expect(answer).toMatchObject({ type: 'SYNC_PAGE', cursor: position(1) });
    expect(answer.frames).toHaveLength(1);
    expect(bytes).toBeLessThanOrEqual(webSocketLimits.messageBytes);
  });

  it('never serves an expired item, and keeps paging when a whole page had expired', async () => {
    const expired = NOW / 1000 - 1;
    db.on(QueryCommand, { TableName: 'parley-deviceQueues' }).resolves({ Items: [queued(1, 8, expired)], LastEvaluatedKey: { device: `${USER}#1`, position: position(1) } });
    const { answer } = await syncFrom();
    expect(answer).toEqual({ type: 'SYNC_PAGE', frames: [], cursor: position(1), requestId: 'r' });
  });

  it('refuses a malformed cursor with an error frame', async () => {
    const { answer } = await syncFrom('x'.repeat(129));
    expect(answer).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST', action: 'SYNC' });
    expect(db.commandCalls(QueryCommand)).toHaveLength(0);
  });
});

describe('SYNC delivery states', () => {
  beforeEach(() => db.on(QueryCommand, { TableName: 'parley-deviceQueues' }).resolves({ Items: [queued(1)] }));

  it('ends the last page with the states that changed after receiptsAfter, as RECEIPTs without a cursor, after the queued frames', async () => {
    deliveryStates(deliveryState(2));
    const { answer } = await syncFrom(undefined, NOW);
    expect(answer.type).toBe('QUEUE_EMPTY');
    expect(answer.frames.map((f: { type: string }) => f.type)).toEqual(['PUSH', 'RECEIPT']);
    expect(answer.frames[1]).toEqual({
      type: 'RECEIPT',
      receiptId: expect.any(String),
      status: 'delivered',
      conversationId: `direct:${USER}:${id(2)}`,
      msgIds: [id(2)],
      by: { userId: id(2), deviceId: 2 },
      upToServerTs: NOW + 2,
      serverTs: NOW + 102,
    });
    // Read strongly consistent, once: the same read gives the user's group rows.
    expect(conversationQueries()).toEqual([expect.objectContaining({ ConsistentRead: true, KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': USER } })]);
  });

  it("answers the states that changed up to a clock's skew before the device's receiptsAfter, not before", async () => {
    const at = (n: number, deliveredAt: number) => ({ ...deliveryState(n), deliveredAt });
    deliveryStates(at(2, NOW - CLOCK_SKEW_MS + 1), at(3, NOW - CLOCK_SKEW_MS));
    const { answer } = await syncFrom(undefined, NOW);
    expect(receiptsIn(answer).map((r: any) => r.conversationId)).toEqual([deliveryState(2).conversationId]);
  });

  it('answers the last 30 days of states when the device names no receiptsAfter', async () => {
    const since = NOW - 30 * 24 * 3600 * 1000 - CLOCK_SKEW_MS;
    deliveryStates({ ...deliveryState(2), deliveredAt: since + 1 }, { ...deliveryState(3), deliveredAt: since });
    const { answer } = await syncFrom();
    expect(receiptsIn(answer).map((r: any) => r.conversationId)).toEqual([deliveryState(2).conversationId]);
  });

  it('answers no states on a page that is not the last', async () => {
    db.on(QueryCommand, { TableName: 'parley-deviceQueues' }).resolves({ Items: [queued(1)], LastEvaluatedKey: { device: `${USER}#1`, position: position(1) } });
    deliveryStates(deliveryState(2));
    const { answer } = await syncFrom();
    expect(answer.type).toBe('SYNC_PAGE');
    expect(receiptsIn(answer)).toEqual([]);
  });

  it(`answers at most ${MAX_SYNC_DELIVERY_STATES} states, the most recently changed`, async () => {
    deliveryStates(...Array.from({ length: MAX_SYNC_DELIVERY_STATES + 1 }, (_, n) => deliveryState(n + 1)));
    const { answer } = await syncFrom();
    const receipts = answer.frames.filter((f: { type: string }) => f.type === 'RECEIPT');
    expect(receipts).toHaveLength(MAX_SYNC_DELIVERY_STATES);
    expect(receipts.map((r: { upToServerTs: number }) => r.upToServerTs)).not.toContain(NOW + 1);
  });

  it('gives the states a page of their own when the last queued frames leave no room for them', async () => {
    db.on(QueryCommand, { TableName: 'parley-deviceQueues' }).resolves({ Items: [queued(1, 60_000), queued(2, 69_000)] });
    deliveryStates(deliveryState(3), deliveryState(4));
    const { answer, bytes } = await syncFrom();
    expect(answer).toMatchObject({ type: 'SYNC_PAGE', cursor: position(2) });
    expect(answer.frames.map((f: { type: string }) => f.type)).toEqual(['PUSH', 'PUSH']);
    expect(bytes).toBeLessThanOrEqual(webSocketLimits.messageBytes);
  });
});
