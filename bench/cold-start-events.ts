/**
 * One event per function on every message's path, for `bench/bundles.ts` to time a bundle's first
 * invocation with: each is well formed, so that the handler gets past its parsing to its AWS requests (the
 * bench answers those with an empty success). Built with the unit tests' event fixtures (AWS's shapes).
 * The other functions' first invocations are not timed.
 */
import type { FunctionId } from '../lambdas/functions';
import { directConversationId } from '../lambdas/send/conversations';
import {
  connectEvent,
  disconnectEvent,
  httpAuthorizerEvent,
  kinesisRecord,
  messageEvent,
  NOW,
  USER,
  webSocketAuthorizerEvent,
} from '../test/fixtures/aws-events';

const PEER = '0f3c2b1a-9e8d-4c7b-a6f5-e4d3c2b1a098';
const MSG = '7d9f2c4e-1a3b-4c5d-8e7f-9a0b1c2d3e4f';
const CONVERSATION = directConversationId(USER, PEER);
const CONNECTION = 'Lx0UJcPqoAMCIvg=';
const CALLER = { userId: USER, deviceId: 1 };
const CIPHERTEXT = Buffer.alloc(300, 7).toString('base64');
const CREDENTIALS = `Basic ${Buffer.from(`${USER}.1:${'s'.repeat(43)}`).toString('base64')}`;

const frame = (body: Record<string, unknown>) =>
  messageEvent(String(body.action), JSON.stringify({ requestId: 'r1', ...body }), CONNECTION, { ...CALLER, deviceId: '1' });

export const coldStartEvents: Readonly<Partial<Record<FunctionId, unknown>>> = {
  webSocketAuthorizer: webSocketAuthorizerEvent({ Authorization: CREDENTIALS }),
  connect: connectEvent(CONNECTION, CALLER),
  disconnect: disconnectEvent(CONNECTION, CALLER),
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
  delivered: frame({ action: 'DELIVERED', cursors: [`${NOW}#${MSG}`] }),
  read: frame({ action: 'READ', conversationId: CONVERSATION, upToMsgId: MSG }),
  fanout: {
    Records: [
      kinesisRecord(
        {
          kind: 'message',
          msgId: MSG,
          conversationId: CONVERSATION,
          from: CALLER,
          to: PEER,
          seq: 1,
          serverTs: NOW,
          envelopes: [{ userId: PEER, deviceId: 1, type: 'message', ciphertext: CIPHERTEXT }],
        },
        CONVERSATION,
        '49590000000000000000000000000000000000000000000000000001',
      ),
    ],
  },
  httpAuthorizer: httpAuthorizerEvent({ authorization: CREDENTIALS }),
};
