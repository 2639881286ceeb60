import { randomUUID } from 'node:crypto';
import { directConversationId } from '../../lambdas/send/conversations';
import type { TestDevice } from './device-client';

/** A SEND frame of a 1:1 message from one device to another's one device, its text made from `seq`. */
export function directMessage(from: TestDevice, to: TestDevice, seq: number) {
  return {
    action: 'SEND',
    requestId: randomUUID(),
    msgId: randomUUID(),
    conversationId: directConversationId(from.userId, to.userId),
    to: to.userId,
    seq,
    envelopes: [{ userId: to.userId, deviceId: to.deviceId, registrationId: to.registrationId, type: 'message', ciphertext: Buffer.from(`message ${seq}`).toString('base64') }],
  };
}
