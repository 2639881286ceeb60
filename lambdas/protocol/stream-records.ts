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
  /** The sender's chat-list preview, for the sender's own conversation row. */
  preview: z.string().optional(),
});
export type MessageRecord = z.infer<typeof MessageRecord>;

/**
 * A receipt for the sender's devices: `delivered` (two grey ticks) names the messages a device stored,
 * `read` (two blue ticks) everything up to one message, `failed` a message that expired undelivered after
 * 30 days in the named device's queue. READ also goes to the reader's other devices, so
 * read state is shared. `recipients` are users; every device of each gets it.
 */
export const ReceiptRecord = z.strictObject({
  kind: z.literal('receipt'),
  receiptId: z.uuid(),
  status: z.enum(['delivered', 'read', 'failed']),
  conversationId: z.string(),
  msgIds: z.array(z.uuid()),
  by: Participant,
  recipients: z.array(z.uuid()).min(1),
  serverTs: z.number().int(),
});
export type ReceiptRecord = z.infer<typeof ReceiptRecord>;

export const StreamRecord = z.discriminatedUnion('kind', [MessageRecord, ReceiptRecord]);
export type StreamRecord = z.infer<typeof StreamRecord>;
