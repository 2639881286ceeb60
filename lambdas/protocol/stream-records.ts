/**
 * Records on the message stream, from the send route to the fanout consumer. One schema each; the
 * consumer parses every record with it, so a record of another shape is a poison record, not a crash.
 */
import { z } from 'zod';
import { Envelope } from './frames';

export const Participant = z.strictObject({ userId: z.uuid(), deviceId: z.number().int().min(1) });
export type Participant = z.infer<typeof Participant>;

/** An accepted 1:1 message, to be written to each addressed device's queue. */
export const MessageRecord = z.strictObject({
  kind: z.literal('message'),
  msgId: z.uuid(),
  conversationId: z.string(),
  from: Participant,
  to: z.uuid(),
  seq: z.number().int(),
  serverTs: z.number().int(),
  envelopes: z.array(Envelope),
});
export type MessageRecord = z.infer<typeof MessageRecord>;
