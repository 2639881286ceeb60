/**
 * Records on the message stream, from the send route to the fanout consumer. One schema each; the
 * consumer parses every record with it, so a record of another shape is a poison record, not a crash.
 */
import * as z from './zod';
import { DeliveryOptions, Envelope } from './frames';

const Int = z.number().check(z.int());

export const Participant = z.strictObject({ userId: z.uuid(), deviceId: z.number().check(z.int(), z.minimum(1)) });
export type Participant = z.infer<typeof Participant>;

/**
 * The X-Ray trace header of the function that put the record (`Root=…;Parent=…;Sampled=…`), which the
 * consumer continues. Optional: records put without tracing, or before it existed, have none; a malformed
 * one only goes untraced, it never makes the record a poison record.
 */
export const TraceHeader = z.optional(z.string().check(z.maxLength(256)));

/** An accepted 1:1 message, to be written to each addressed device's queue. */
export const MessageRecord = z.strictObject({
  kind: z.literal('message'),
  traceHeader: TraceHeader,
  msgId: z.uuid(),
  conversationId: z.string(),
  from: Participant,
  to: z.uuid(),
  seq: Int,
  serverTs: Int,
  /** The SEND's envelopes; a record put before envelopes named their `registrationId` still parses. */
  envelopes: z.array(z.partial(Envelope, { registrationId: true })),
  /** The sender's chat-list preview, for the sender's own conversation row. */
  preview: z.optional(z.string()),
  /**
   * The recipient blocked the sender: the record carries only the sender's own devices' envelopes, and the
   * recipient's chat list is not touched either, so nothing of it reaches the recipient.
   */
  withheld: z.optional(z.literal(true)),
  /**
   * The SEND's `expiresInSeconds` (the chat disappears, so the queued copies expire sooner than 30 days)
   * and `control` (delivered as any message, but the chat lists are not touched).
   */
  ...DeliveryOptions.shape,
});
export type MessageRecord = z.infer<typeof MessageRecord>;

/**
 * A receipt for the sender's devices: `delivered` (two grey ticks) names the messages a device stored,
 * `read` (two blue ticks) everything up to one message, `failed` a message that expired undelivered after
 * 30 days in the named device's queue, or that the fanout failed on and redrive gave up on. READ also goes to the reader's other devices, so
 * read state is shared. `recipients` are users; every device of each gets it.
 */
export const ReceiptRecord = z.strictObject({
  kind: z.literal('receipt'),
  traceHeader: TraceHeader,
  receiptId: z.uuid(),
  status: z.enum(['delivered', 'read', 'failed']),
  conversationId: z.string(),
  msgIds: z.array(z.uuid()),
  by: Participant,
  recipients: z.array(z.uuid()).check(z.minLength(1)),
  serverTs: Int,
});
export type ReceiptRecord = z.infer<typeof ReceiptRecord>;

/**
 * An accepted group message, for every device of the members the group had when it was accepted
 * (`groupVersion`): nobody who joined later, and nobody removed since.
 */
export const GroupMessageRecord = z.strictObject({
  kind: z.literal('groupMessage'),
  traceHeader: TraceHeader,
  msgId: z.uuid(),
  conversationId: z.string(),
  groupId: z.uuid(),
  groupVersion: z.number().check(z.int(), z.minimum(1)),
  from: Participant,
  seq: Int,
  serverTs: Int,
  ciphertext: z.string(),
  /** The GROUP_SEND's `expiresInSeconds` and `control`, as a SEND's. */
  ...DeliveryOptions.shape,
});
export type GroupMessageRecord = z.infer<typeof GroupMessageRecord>;

/** What one membership change did, as its members' devices are told it. */
export const GroupChange = z.strictObject({
  by: z.uuid(),
  added: z.array(z.uuid()),
  removed: z.array(z.uuid()),
  madeAdmin: z.array(z.uuid()),
});
export type GroupChange = z.infer<typeof GroupChange>;

/**
 * A group's membership changed: every device of its members, and of the users it removed, gets a
 * GROUP_UPDATE in the group's conversation, in order with its messages, so clients rotate their Sender
 * Key when someone leaves or is removed.
 */
export const GroupChangeRecord = z.strictObject({
  kind: z.literal('groupChange'),
  traceHeader: TraceHeader,
  changeId: z.uuid(),
  groupId: z.uuid(),
  conversationId: z.string(),
  version: z.number().check(z.int(), z.minimum(1)),
  name: z.string(),
  change: GroupChange,
  /** The members after the change. */
  members: z.array(z.uuid()),
  serverTs: Int,
});
export type GroupChangeRecord = z.infer<typeof GroupChangeRecord>;

/**
 * A message was deleted for everyone (REVOKE). Put with the message's conversation as partition key, after
 * the message's own record, so the fanout handles it after it has written the message's copies: it deletes
 * whatever copies are still queued (those a REVOKE that overtook the fan-out could not find) and takes the
 * message out of the chat lists.
 */
export const RevokeRecord = z.strictObject({
  kind: z.literal('revoke'),
  traceHeader: TraceHeader,
  msgId: z.uuid(),
  conversationId: z.string(),
  /** The device that sent the message: its own queue never had it. */
  from: Participant,
  /** The message's serverTs: with its msgId, the message's position in every queue. */
  serverTs: Int,
});
export type RevokeRecord = z.infer<typeof RevokeRecord>;

export const StreamRecord = z.discriminatedUnion('kind', [MessageRecord, ReceiptRecord, GroupMessageRecord, GroupChangeRecord, RevokeRecord]);
export type StreamRecord = z.infer<typeof StreamRecord>;
