/**
 * One X-Ray trace per message: the accepting route writes its trace header into the stream record and
 * annotates its subsegment with the message's ids; the fanout continues the sender's trace from the header
 * (a segment sent to the X-Ray daemon, here a UDP socket of the test) and records the record in its own
 * batch's trace, linked by trace id. A real Powertools Tracer and real X-Ray segments; only Lambda's facade
 * segment is stood in for, by a segment of the test's own.
 */
import dgram from 'node:dgram';
import { mockClient } from 'aws-sdk-client-mock';
import { BatchGetCommand, BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { Tracer } from '@aws-lambda-powertools/tracer';
import AWSXRay, { Segment, type Subsegment } from 'aws-xray-sdk-core';
import { handler as send } from '../../lambdas/send/send';
import { handler as delivered } from '../../lambdas/sync/delivered';
import { handler as sync } from '../../lambdas/sync/sync';
import { handler as fanout } from '../../lambdas/fanout/fanout';
import { directConversationId } from '../../lambdas/send/conversations';
import { StreamRecord } from '../../lambdas/protocol/stream-records';
import { annotationsOf, messageIdsOf, parseTraceHeader, traceStreamRecord } from '../../lambdas/runtime/message-trace';
import { daemonAddressOf, lambdaTraceOf } from '../../lambdas/runtime/lambda-trace';
import { kinesisRecord, messageEvent, mockDeps, NOW, routeCheckPasses, USER } from '../fixtures/aws-events';

const db = mockClient(DynamoDBDocumentClient);
const kinesis = mockClient(KinesisClient);
const connections = mockClient(ApiGatewayManagementApiClient);
const BOB = '0d6f3b5e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const MSG = '9f1c2b3a-4d5e-4f60-8a7b-6c5d4e3f2a1b';
const CONVERSATION = directConversationId(USER, BOB);
const SEND_TRACE = '1-67891233-abcdef012345678912345678';
const FANOUT_TRACE = '1-67891234-0123456789abcdef01234567';

/** A 1:1 message record from the user to Bob's one device, as the send route puts it. */
const message = {
  kind: 'message',
  msgId: MSG,
  conversationId: CONVERSATION,
  from: { userId: USER, deviceId: 1 },
  to: BOB,
  seq: 1,
  serverTs: NOW,
  envelopes: [{ userId: BOB, deviceId: 1, registrationId: 7, type: 'message', ciphertext: 'AAAA' }],
};

/** The fanout's queue writes, route read and post to Bob's live device all succeed. */
function fanoutCallsSucceed(): void {
  db.on(PutCommand).resolves({});
  db.on(BatchWriteCommand).resolves({});
  db.on(BatchGetCommand).resolves({
    Responses: { 'parley-routing': [{ userId: BOB, deviceId: 1, connectionId: 'bob-1=', connectedAt: NOW, expiresAt: NOW / 1000 + 600 }] },
  });
  connections.on(PostToConnectionCommand).resolves({});
}

/** A tracer as on Lambda, whose current segment is `segment` (what `traced()` sets: the `## handler` subsegment). */
function tracerIn(segment: Segment | Subsegment): Tracer {
  const tracer = new Tracer({ serviceName: 'parley', captureHTTPsRequests: false });
  jest.spyOn(tracer, 'getSegment').mockReturnValue(segment);
  return tracer;
}

/** The process environment of a traced Lambda invocation of trace `root`. */
function invocationOf(root: string, sampled = true): void {
  process.env._X_AMZN_TRACE_ID = `Root=${root};Parent=1234567890abcdef;Sampled=${sampled ? 1 : 0}`;
}

/** What `addAnnotation` recorded on a segment (the SDK's types do not show it). */
const annotationsIn = (segment: Segment | Subsegment) => (segment as unknown as { annotations?: Record<string, unknown> }).annotations;

/** Segments the X-Ray SDK sends to its daemon, which here is a socket of the test. */
let daemon: dgram.Socket;
let sent: Record<string, any>[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  daemon = dgram.createSocket('udp4');
  daemon.on('message', (packet) => sent.push(JSON.parse(packet.toString().split('\n')[1]!)));
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  AWSXRay.setDaemonAddress(`127.0.0.1:${daemon.address().port}`);
  AWSXRay.setLogger({ error: () => {}, warn: () => {}, info: () => {}, debug: () => {} });
});
afterAll(() => daemon.close());

beforeEach(() => {
  Object.assign(process.env, { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x', POWERTOOLS_TRACE_ENABLED: 'true' });
  sent = [];
  db.reset();
  kinesis.reset();
  connections.reset();
});
afterEach(() => {
  for (const key of ['AWS_EXECUTION_ENV', 'POWERTOOLS_TRACE_ENABLED', '_X_AMZN_TRACE_ID']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

/** Waits for the daemon to get `count` segments, or a moment when none are expected. */
async function segmentsSent(count: number): Promise<Record<string, any>[]> {
  for (let waited = 0; sent.length < count && waited < 2000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  if (count === 0) await new Promise((r) => setTimeout(r, 100));
  return sent;
}

describe('message trace', () => {
  describe('SEND', () => {
    beforeEach(() => {
      routeCheckPasses(db);
      db.on(GetCommand, { TableName: 'parley-blocks' }).resolves({}); // Bob has not blocked the sender
      db.on(UpdateCommand).resolves({});
      db.on(QueryCommand, { ExpressionAttributeValues: { ':u': BOB } }).resolves({ Items: [{ userId: BOB, deviceId: 1, registrationId: 7 }] });
      db.on(QueryCommand, { ExpressionAttributeValues: { ':u': USER } }).resolves({ Items: [] });
      db.on(PutCommand).resolves({});
      kinesis.on(PutRecordCommand).resolves({ SequenceNumber: '1', ShardId: 'shardId-000000000000' });
    });
    const frame = {
      action: 'SEND',
      msgId: MSG,
      conversationId: CONVERSATION,
      to: BOB,
      seq: 1,
      envelopes: [{ userId: BOB, deviceId: 1, registrationId: 7, type: 'message', ciphertext: 'AAAA' }],
    };
    const sendWith = (deps: ReturnType<typeof mockDeps>) => send.withDeps(deps)(messageEvent('SEND', JSON.stringify(frame), 'conn-1=', { userId: USER, deviceId: 1 }));

    it('writes its trace header into the record and annotates its subsegment with msgId and conversationId', async () => {
      invocationOf(SEND_TRACE);
      const handlerSegment = new Segment('Parley-dev-send', SEND_TRACE).addNewSubsegment('## send');
      await sendWith({ ...mockDeps(), tracer: tracerIn(handlerSegment) });

      const data = JSON.parse(Buffer.from(kinesis.commandCalls(PutRecordCommand)[0]!.args[0].input.Data!).toString());
      expect(data.traceHeader).toBe(`Root=${SEND_TRACE};Parent=${handlerSegment.id};Sampled=1`);
      expect(StreamRecord.parse(data)).toMatchObject({ kind: 'message', msgId: MSG, traceHeader: data.traceHeader });
      expect(annotationsIn(handlerSegment)).toEqual({ msgId: MSG, conversationId: CONVERSATION });
    });

    it('writes no header without a tracer (the local runtime), and the record is the same', async () => {
      await sendWith(mockDeps());
      const data = JSON.parse(Buffer.from(kinesis.commandCalls(PutRecordCommand)[0]!.args[0].input.Data!).toString());
      expect(data).not.toHaveProperty('traceHeader');
      expect(data).toMatchObject({ kind: 'message', msgId: MSG });
    });
  });

  it('annotates DELIVERED with the message it acknowledges', async () => {
    invocationOf(SEND_TRACE);
    routeCheckPasses(db);
    db.on(GetCommand).resolves({});
    db.on(DeleteCommand).resolves({});
    const handlerSegment = new Segment('Parley-dev-delivered', SEND_TRACE).addNewSubsegment('## delivered');
    await delivered.withDeps({ ...mockDeps(), tracer: tracerIn(handlerSegment) })(
      messageEvent('DELIVERED', JSON.stringify({ action: 'DELIVERED', cursors: [`${NOW}#${MSG}`] }), 'conn-1=', { userId: BOB, deviceId: 1 }),
    );
    expect(annotationsIn(handlerSegment)).toMatchObject({ msgId: MSG });
  });

  it('annotates a SYNC with the messages of the page it hands out', async () => {
    invocationOf(SEND_TRACE);
    routeCheckPasses(db);
    const push = (n: number) => {
      const msgId = `00000000-0000-4000-8000-00000000000${n}`;
      const position = `${NOW + n}#${msgId}`;
      const frame = { type: 'PUSH', msgId, conversationId: CONVERSATION, from: { userId: USER, deviceId: 1 }, seq: n, serverTs: NOW + n, envelope: { type: 'message', ciphertext: 'AAAA' }, cursor: position };
      return { device: `${BOB}#1`, position, msgId, expiresAt: NOW / 1000 + 3600, frame };
    };
    db.on(QueryCommand).resolves({ Items: [] });
    db.on(QueryCommand, { TableName: 'parley-deviceQueues' }).resolves({ Items: [push(1), push(2)] });
    // An unknown device reads no group timeline: the page is its queue's.
    db.on(GetCommand, { TableName: 'parley-devices' }).resolves({});
    const handlerSegment = new Segment('Parley-dev-sync', SEND_TRACE).addNewSubsegment('## sync');
    await sync.withDeps({ ...mockDeps(), tracer: tracerIn(handlerSegment) })(messageEvent('SYNC', JSON.stringify({ action: 'SYNC', requestId: 'r' }), 'conn-1=', { userId: BOB, deviceId: 1 }));
    expect(annotationsIn(handlerSegment)).toEqual({ msgIds: '00000000-0000-4000-8000-000000000001,00000000-0000-4000-8000-000000000002' });
  });

  describe('fanout', () => {
    beforeEach(fanoutCallsSucceed);
    const fanoutIn = (batchSegment: Subsegment, record: object) =>
      fanout.withDeps({ ...mockDeps(), env: { ...mockDeps().env, AWS_LAMBDA_FUNCTION_NAME: 'Parley-dev-fanout' }, tracer: tracerIn(batchSegment) })({
        Records: [kinesisRecord(record, CONVERSATION, '49591')],
      });

    it("continues the sender's trace from the record's header, and links the record in its batch's trace", async () => {
      invocationOf(FANOUT_TRACE);
      const batch = new Segment('Parley-dev-fanout', FANOUT_TRACE).addNewSubsegment('## fanout');
      const header = `Root=${SEND_TRACE};Parent=0123456789abcdef;Sampled=1`;
      expect(await fanoutIn(batch, { ...message, traceHeader: header })).toEqual({ batchItemFailures: [] });

      const [continued] = await segmentsSent(1);
      expect(continued).toMatchObject({
        name: 'Parley-dev-fanout',
        trace_id: SEND_TRACE,
        parent_id: '0123456789abcdef',
        origin: 'AWS::Lambda::Function',
        annotations: { msgId: MSG, conversationId: CONVERSATION, batchTraceId: FANOUT_TRACE },
      });
      expect(continued!.end_time).toBeGreaterThanOrEqual(continued!.start_time);
      const [record] = batch.subsegments!;
      expect(record).toMatchObject({ name: '### stream record', annotations: { msgId: MSG, conversationId: CONVERSATION, sendTraceId: SEND_TRACE } });
      expect(record!.isClosed()).toBe(true);
    });

    it('marks both segments with the error of a record that fails', async () => {
      invocationOf(FANOUT_TRACE);
      db.on(BatchWriteCommand).rejects(new Error('throttled'));
      const batch = new Segment('Parley-dev-fanout', FANOUT_TRACE).addNewSubsegment('## fanout');
      const answer = await fanoutIn(batch, { ...message, traceHeader: `Root=${SEND_TRACE};Parent=0123456789abcdef;Sampled=1` });
      expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '49591' }] });
      const [continued] = await segmentsSent(1);
      expect(continued).toMatchObject({ trace_id: SEND_TRACE, fault: true });
      expect(batch.subsegments![0]).toMatchObject({ fault: true });
    });

    it('sends nothing for an unsampled, malformed or missing header, and delivers the record all the same', async () => {
      invocationOf(FANOUT_TRACE);
      for (const traceHeader of [`Root=${SEND_TRACE};Parent=0123456789abcdef;Sampled=0`, 'Root=nonsense', undefined]) {
        const batch = new Segment('Parley-dev-fanout', FANOUT_TRACE).addNewSubsegment('## fanout');
        expect(await fanoutIn(batch, { ...message, ...(traceHeader ? { traceHeader } : {}) })).toEqual({ batchItemFailures: [] });
        expect(annotationsIn(batch.subsegments![0]!)).toMatchObject({ msgId: MSG });
      }
      expect(await segmentsSent(0)).toEqual([]);
      expect(connections.commandCalls(PostToConnectionCommand)).toHaveLength(3);
    });

    it('runs the work untraced without a tracer', async () => {
      await expect(traceStreamRecord(undefined, { functionName: 'f', ids: {} }, async () => 42)).resolves.toBe(42);
    });
  });

  describe('with Lambda’s active tracing alone (no X-Ray SDK)', () => {
    /** Lambda's trace of an invocation of trace `root`, its segments sent to the test's daemon. */
    const lambdaTraceIn = (root: string, sampled = true) =>
      lambdaTraceOf({
        _X_AMZN_TRACE_ID: `Root=${root};Parent=1234567890abcdef;Sampled=${sampled ? 1 : 0};Lineage=a87bd80c:0`,
        AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
      });
    const fanoutWith = (record: object) =>
      fanout.withDeps({ ...mockDeps(), env: { ...mockDeps().env, AWS_LAMBDA_FUNCTION_NAME: 'Parley-dev-fanout' }, lambdaTrace: lambdaTraceIn(FANOUT_TRACE) })({
        Records: [kinesisRecord(record, CONVERSATION, '49591')],
      });
    beforeEach(fanoutCallsSucceed);

    it('writes Lambda’s trace header, its segment the parent, into the SEND’s record', async () => {
      routeCheckPasses(db);
      db.on(GetCommand, { TableName: 'parley-blocks' }).resolves({});
      db.on(UpdateCommand).resolves({});
      db.on(QueryCommand, { ExpressionAttributeValues: { ':u': BOB } }).resolves({ Items: [{ userId: BOB, deviceId: 1, registrationId: 7 }] });
      db.on(QueryCommand, { ExpressionAttributeValues: { ':u': USER } }).resolves({ Items: [] });
      kinesis.on(PutRecordCommand).resolves({ SequenceNumber: '1', ShardId: 'shardId-000000000000' });
      const frame = { ...message, action: 'SEND', kind: undefined, from: undefined, serverTs: undefined };
      await send.withDeps({ ...mockDeps(), lambdaTrace: lambdaTraceIn(SEND_TRACE) })(
        messageEvent('SEND', JSON.stringify(frame), 'conn-1=', { userId: USER, deviceId: 1 }),
      );
      const data = JSON.parse(Buffer.from(kinesis.commandCalls(PutRecordCommand)[0]!.args[0].input.Data!).toString());
      expect(data.traceHeader).toBe(`Root=${SEND_TRACE};Parent=1234567890abcdef;Sampled=1`);
      expect(await segmentsSent(0)).toEqual([]);
    });

    it("continues the sender's trace from the record's header in a segment of its own, annotated with the message and its batch", async () => {
      const header = `Root=${SEND_TRACE};Parent=0123456789abcdef;Sampled=1`;
      expect(await fanoutWith({ ...message, traceHeader: header })).toEqual({ batchItemFailures: [] });
      const [continued] = await segmentsSent(1);
      expect(continued).toEqual({
        name: 'Parley-dev-fanout',
        id: expect.stringMatching(/^[0-9a-f]{16}$/),
        trace_id: SEND_TRACE,
        parent_id: '0123456789abcdef',
        origin: 'AWS::Lambda::Function',
        annotations: { msgId: MSG, conversationId: CONVERSATION, batchTraceId: FANOUT_TRACE },
        start_time: expect.any(Number),
        end_time: expect.any(Number),
      });
      expect(continued!.end_time).toBeGreaterThanOrEqual(continued!.start_time);
    });

    it('marks the continued segment a fault when the record fails', async () => {
      db.on(BatchWriteCommand).rejects(new Error('throttled'));
      const answer = await fanoutWith({ ...message, traceHeader: `Root=${SEND_TRACE};Parent=0123456789abcdef;Sampled=1` });
      expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '49591' }] });
      const [continued] = await segmentsSent(1);
      expect(continued).toMatchObject({ trace_id: SEND_TRACE, fault: true, cause: { exceptions: [{ message: 'throttled', type: 'Error' }] } });
    });

    it('sends nothing for an unsampled, malformed or missing header, and delivers the record all the same', async () => {
      for (const traceHeader of [`Root=${SEND_TRACE};Parent=0123456789abcdef;Sampled=0`, 'Root=nonsense', undefined]) {
        expect(await fanoutWith({ ...message, ...(traceHeader ? { traceHeader } : {}) })).toEqual({ batchItemFailures: [] });
      }
      expect(await segmentsSent(0)).toEqual([]);
      expect(connections.commandCalls(PostToConnectionCommand)).toHaveLength(3);
    });

    it('reads the invocation’s trace from Lambda’s invocation store before the environment', () => {
      const fromEnvironment = `Root=${FANOUT_TRACE};Parent=1234567890abcdef;Sampled=1`;
      const fromStore = `Root=${SEND_TRACE};Parent=0123456789abcdef;Sampled=1`;
      const trace = lambdaTraceOf({ _X_AMZN_TRACE_ID: fromEnvironment });
      expect(trace.header()).toBe(fromEnvironment);
      Object.assign(globalThis, { awslambda: { InvokeStore: { getXRayTraceId: () => fromStore } } });
      try {
        expect(trace.header()).toBe(fromStore);
      } finally {
        delete (globalThis as { awslambda?: unknown }).awslambda;
      }
    });

    it('finds the daemon where Lambda says it is', () => {
      expect(daemonAddressOf('169.254.79.129:2000')).toEqual({ host: '169.254.79.129', port: 2000 });
      expect(daemonAddressOf('tcp:127.0.0.1:2000 udp:127.0.0.2:2001')).toEqual({ host: '127.0.0.2', port: 2001 });
      expect(daemonAddressOf(undefined)).toBeUndefined();
    });
  });

  it('takes the ids of every frame and record that names a message', () => {
    const group = 'group:0d6f3b5e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
    expect(messageIdsOf({ action: 'GROUP_SEND', msgId: MSG, conversationId: group })).toEqual({ msgId: MSG, conversationId: group });
    expect(messageIdsOf({ action: 'READ', conversationId: CONVERSATION, upToMsgId: MSG })).toEqual({ msgId: MSG, conversationId: CONVERSATION });
    expect(messageIdsOf({ action: 'DELIVERED', cursors: [`${NOW}#${MSG}`] })).toEqual({ msgId: MSG });
    expect(messageIdsOf({ action: 'DELIVERED', cursors: [`${NOW}#${MSG}`, `${NOW + 1}#${SEND_TRACE}`] })).toEqual({ msgIds: [MSG, SEND_TRACE] });
    expect(messageIdsOf({ kind: 'receipt', msgIds: [MSG, SEND_TRACE], conversationId: CONVERSATION })).toEqual({ msgIds: [MSG, SEND_TRACE], conversationId: CONVERSATION });
    expect(messageIdsOf({ action: 'SYNC' })).toEqual({});
    expect(messageIdsOf(null)).toEqual({});
  });

  it('reads trace headers as X-Ray writes them', () => {
    expect(parseTraceHeader(`Root=${SEND_TRACE};Parent=0123456789abcdef;Sampled=1`)).toEqual({ root: SEND_TRACE, parent: '0123456789abcdef', sampled: true });
    expect(parseTraceHeader(`Root=${SEND_TRACE};Sampled=1`)).toBeUndefined();
    expect(parseTraceHeader(undefined)).toBeUndefined();
  });

  it('keeps as many whole msgIds as fit in one annotation', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const { msgIds } = annotationsOf({ msgIds: ids });
    expect(msgIds!.length).toBeLessThanOrEqual(1000);
    expect(msgIds!.split(',')).toEqual(ids.slice(0, 27));
  });
});
