/**
 * A message is stamped once and put on the stream once, however often its sender retries it. The first
 * acceptance binds the msgId to its sending device and conversation and takes the conversation clock's
 * next serverTs (strictly increasing, whichever Lambda's clock is behind); the record goes on the stream,
 * then the acceptance is marked. A retry answers the first ACK, and puts the record again only when the
 * first attempt never marked it: that one may have died before its put.
 */
import { ParleyError } from '../protocol/errors';
import type { AckFrame } from '../protocol/frames';
import type { StreamRecord } from '../protocol/stream-records';
import type { Deps } from '../runtime/deps';
import type { Caller } from '../runtime/gateway-events';
import { acceptOnce, markOnStream, senderOf, type AcceptedMessage } from '../tables/accepted-messages';
import { nextServerTs } from '../tables/conversation-clocks';
import { QUEUE_TTL_MS } from '../tables/device-queues';
import { putOnMessageStream } from './message-stream';

/**
 * How long a msgId is remembered, and so how long a retry gets the first ACK and is delivered once: as
 * long as the message may wait in a queue. After it the msgId is forgotten; a client never reuses one.
 */
export const RETRY_WINDOW_MS = QUEUE_TTL_MS;

/** What names an accepted message: its msgId, in its conversation. */
export interface Sent {
  readonly msgId: string;
  readonly conversationId: string;
}

/** Whether the acceptance is this device's, for this conversation: a retry, not a msgId taken by someone else. */
export const isAcceptanceOf = (accepted: AcceptedMessage, caller: Caller, frame: Sent) =>
  accepted.sender === senderOf(caller) && accepted.conversationId === frame.conversationId;

/**
 * Puts the message's record (made with its one serverTs) on the stream unless it is there already; answers
 * its ACK. `stamp` ticks the conversation's clock (a SEND's also spends a rate-limit token with it).
 */
export async function streamOnce(
  deps: Deps,
  caller: Caller,
  frame: Sent,
  recordOf: (serverTs: number) => StreamRecord,
  stamp: () => Promise<number> = () => nextServerTs(deps, frame.conversationId),
): Promise<AckFrame> {
  // A retry ticks the clock too, and keeps its first stamp: a skipped millisecond harms nothing.
  const serverTs = await stamp();
  const accepted = await acceptOnce(deps, {
    msgId: frame.msgId,
    sender: senderOf(caller),
    conversationId: frame.conversationId,
    serverTs,
    expiresAt: Math.ceil((serverTs + RETRY_WINDOW_MS) / 1000),
  });
  if (!isAcceptanceOf(accepted, caller, frame)) {
    throw new ParleyError('MSG_ID_TAKEN', 'msgId: already used by another device or in another conversation; use a fresh UUID per message');
  }
  if (!accepted.onStream) {
    // Two retries racing here both put: the fanout's conditional queue writes still queue it once.
    await putOnMessageStream(deps, recordOf(accepted.serverTs));
    await markOnStream(deps, frame.msgId);
  }
  return { type: 'ACK', msgId: frame.msgId, serverTs: accepted.serverTs };
}
