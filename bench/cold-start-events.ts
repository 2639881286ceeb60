/**
 * One event per function on every message's path, for `bench/bundles.ts` to time a bundle's first
 * invocation with: each is well formed, so that the handler gets past its parsing to its AWS requests (the
 * bench answers those with an empty success). The other functions' first invocations are not timed.
 */
import type { FunctionId } from '../lambdas/functions';
import { directConversationId } from '../lambdas/send/conversations';

const USER = '5b0d9a4e-7c1f-4d2a-9f3e-2a6b8c1d0e7f';
const PEER = '0f3c2b1a-9e8d-4c7b-a6f5-e4d3c2b1a098';
const MSG = '7d9f2c4e-1a3b-4c5d-8e7f-9a0b1c2d3e4f';
const CONVERSATION = directConversationId(USER, PEER);
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const CIPHERTEXT = Buffer.alloc(300, 7).toString('base64');
const CREDENTIALS = `Basic ${Buffer.from(`${USER}.1:${'s'.repeat(43)}`).toString('base64')}`;

const webSocketContext = (routeKey: string, eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT') => ({
  routeKey,
  eventType,
  extendedRequestId: 'K1x2y3z4IAMFeQ=',
  requestTime: '01/Dec/2026:12:00:00 +0000',
  messageDirection: 'IN',
  stage: 'prod',
  connectedAt: NOW - 1000,
  requestTimeEpoch: NOW,
  identity: { sourceIp: '203.0.113.7' },
  requestId: 'K1x2y3z4IAMFeQ=',
  domainName: 'example.execute-api.us-east-1.amazonaws.com',
  connectionId: 'Lx0UJcPqoAMCIvg=',
  apiId: 'example',
  authorizer: { userId: USER, deviceId: '1', principalId: `${USER}.1` },
});

const frame = (body: Record<string, unknown>) => ({
  requestContext: webSocketContext(String(body.action), 'MESSAGE'),
  body: JSON.stringify({ requestId: 'r1', ...body }),
  isBase64Encoded: false,
});

const kinesisEvent = (records: readonly Record<string, unknown>[]) => ({
  Records: records.map((data, index) => ({
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: String(data.conversationId),
      sequenceNumber: `4959${index}`,
      data: Buffer.from(JSON.stringify(data)).toString('base64'),
      approximateArrivalTimestamp: NOW / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `shardId-000000000000:4959${index}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/fanout',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/messages',
  })),
});

export const coldStartEvents: Readonly<Partial<Record<FunctionId, unknown>>> = {
  webSocketAuthorizer: {
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:us-east-1:123456789012:example/prod/$connect',
    headers: { Authorization: CREDENTIALS },
    multiValueHeaders: { Authorization: [CREDENTIALS] },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: {},
    requestContext: webSocketContext('$connect', 'CONNECT'),
    isBase64Encoded: false,
  },
  connect: { headers: {}, requestContext: webSocketContext('$connect', 'CONNECT'), isBase64Encoded: false },
  disconnect: { headers: {}, requestContext: webSocketContext('$disconnect', 'DISCONNECT'), isBase64Encoded: false },
  heartbeat: frame({ action: 'HEARTBEAT' }),
  send: frame({
    action: 'SEND',
    msgId: MSG,
    conversationId: CONVERSATION,
    to: PEER,
    seq: 1,
    envelopes: [{ userId: PEER, deviceId: 1, registrationId: 42, type: 'message', ciphertext: CIPHERTEXT }],
  }),
  sync: frame({ action: 'SYNC' }),
  delivered: frame({ action: 'DELIVERED', msgIds: [MSG] }),
  read: frame({ action: 'READ', conversationId: CONVERSATION, upToMsgId: MSG }),
  fanout: kinesisEvent([
    {
      kind: 'message',
      msgId: MSG,
      conversationId: CONVERSATION,
      from: { userId: USER, deviceId: 1 },
      to: PEER,
      seq: 1,
      serverTs: NOW,
      envelopes: [{ userId: PEER, deviceId: 1, type: 'message', ciphertext: CIPHERTEXT }],
    },
  ]),
  httpAuthorizer: {
    version: '2.0',
    type: 'REQUEST',
    routeArn: 'arn:aws:execute-api:us-east-1:123456789012:example/$default/GET/v1/devices',
    identitySource: [CREDENTIALS],
    routeKey: 'GET /v1/devices',
    rawPath: '/v1/devices',
    rawQueryString: '',
    headers: { authorization: CREDENTIALS },
    requestContext: {
      accountId: '123456789012',
      apiId: 'example',
      domainName: 'example.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'example',
      http: { method: 'GET', path: '/v1/devices', protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'bench' },
      requestId: 'abc',
      routeKey: 'GET /v1/devices',
      stage: '$default',
      time: '01/Dec/2026:12:00:00 +0000',
      timeEpoch: NOW,
    },
  },
};
