/**
 * The WebSocket wire protocol: one schema per frame. A client frame names its route in `action`
 * (API Gateway selects the route on `$request.body.action`); a server frame names itself in `type`.
 * A client may add a `requestId`, which the answer echoes so it can match answers to frames.
 */
import { z } from 'zod';
import type { ErrorCode } from './errors';
import { keysTargets, keysUploadShape, MAX_USERS_PER_FETCH_FRAME, RegistrationId, type KeysBatch, type PrekeyCounts } from './keys-api';

const RequestId = z.string().min(1).max(64).optional();

// ---- client → server -------------------------------------------------------------------------

export const HeartbeatFrame = z.strictObject({
  action: z.literal('HEARTBEAT'),
  requestId: RequestId,
});
export type HeartbeatFrame = z.infer<typeof HeartbeatFrame>;

/** The most ciphertext one message may carry, over all its envelopes, in base64 characters (Signal-Server's 96 KiB). */
export const MAX_CIPHERTEXT_CHARS = 96 * 1024;
/** Envelopes in one SEND: every device of the recipient and every other device of the sender. */
export const MAX_ENVELOPES = 10;

const Base64 = z.string().min(1).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64 ciphertext');

/** The most bytes of one chat-list preview, decoded. */
export const MAX_PREVIEW_BYTES = 1024;

/**
 * A chat-list preview: a ciphertext that only the user's own devices can read (under their shared
 * chat-list key, see docs/protocol.md); the server stores it for that user and never reads it.
 */
const Preview = Base64.refine((preview) => Buffer.byteLength(preview, 'base64') <= MAX_PREVIEW_BYTES, {
  message: `a preview is at most ${MAX_PREVIEW_BYTES} bytes`,
});

/**
 * One Signal ciphertext for one device: a PreKeySignalMessage starts a session, a SignalMessage continues
 * it. `registrationId` is the one of the device the session was made with, so that the server can tell a
 * session with an earlier holder of the device id (a number registered again) from one with this device.
 */
export const Envelope = z.strictObject({
  userId: z.uuid(),
  deviceId: z.number().int().min(1).max(127),
  registrationId: RegistrationId,
  type: z.enum(['prekey', 'message']),
  ciphertext: Base64,
});
export type Envelope = z.infer<typeof Envelope>;

/**
 * SEND: one message to one user, encrypted once per device of the recipient (`to`) and once per other
 * device of the sender. `seq` counts the sender device's messages in the conversation, so the recipient
 * sees a gap. There is no `from`: the sender is the authenticated device. `preview` goes to the sender's
 * own chat list.
 */
export const SendFrame = z
  .strictObject({
    action: z.literal('SEND'),
    requestId: RequestId,
    msgId: z.uuid(),
    conversationId: z.string().min(1).max(128),
    to: z.uuid(),
    seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    envelopes: z.array(Envelope).min(1).max(MAX_ENVELOPES),
    preview: Preview.optional(),
  })
  .refine((frame) => frame.envelopes.reduce((total, e) => total + e.ciphertext.length, 0) <= MAX_CIPHERTEXT_CHARS, {
    message: `the envelopes carry more than ${MAX_CIPHERTEXT_CHARS} base64 characters of ciphertext in total`,
    path: ['envelopes'],
  })
  .refine((frame) => new Set(frame.envelopes.map((e) => `${e.userId}.${e.deviceId}`)).size === frame.envelopes.length, {
    message: 'two envelopes for the same device',
    path: ['envelopes'],
  });
export type SendFrame = z.infer<typeof SendFrame>;

/**
 * GROUP_SEND: one message to a group, encrypted once with the sender's Sender Key (a SenderKeyMessage),
 * whatever the group's size. The sender distributes its Sender Key to each member device beforehand over
 * their 1:1 sessions (ordinary SENDs). Only current members may send, and only for the group's current
 * version: a sender that missed a change would leave a new member without its key.
 */
export const GroupSendFrame = z.strictObject({
  action: z.literal('GROUP_SEND'),
  requestId: RequestId,
  msgId: z.uuid(),
  conversationId: z.string().regex(/^group:[0-9a-f-]{36}$/, 'a group conversation, group:<groupId>'),
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** The group's version the sender encrypted for: its members are the ones who have the Sender Key. */
  groupVersion: z.number().int().min(1),
  ciphertext: Base64.max(MAX_CIPHERTEXT_CHARS, `at most ${MAX_CIPHERTEXT_CHARS} base64 characters of ciphertext`),
});
export type GroupSendFrame = z.infer<typeof GroupSendFrame>;

/** What a device's queue hands out, live or by SYNC. */
export type QueuedFrame = PushFrame | ReceiptFrame | GroupUpdateFrame | PrekeysLowFrame;

/** SYNC: answer me the page of my queue after `cursor` (the previous page's cursor), or its first page. */
export const SyncFrame = z.strictObject({
  action: z.literal('SYNC'),
  requestId: RequestId,
  cursor: z.string().min(1).max(128).optional(),
});
export type SyncFrame = z.infer<typeof SyncFrame>;

/** Most msgIds one DELIVERED may acknowledge. */
export const MAX_ACKNOWLEDGED = 100;

/**
 * Most preview ciphertext one DELIVERED may carry, in base64 characters: with 100 msgIds the frame stays
 * under API Gateway's 128 KB message limit.
 */
export const MAX_PREVIEW_CHARS_PER_DELIVERED = 96 * 1024;

/** A preview of one message for the chat list of the user it was delivered to. */
export const MessagePreview = z.strictObject({ msgId: z.uuid(), ciphertext: Preview });
export type MessagePreview = z.infer<typeof MessagePreview>;

/** Groups one DELIVERED may acknowledge by cursor. */
export const MAX_GROUP_CURSORS = 100;

/**
 * A group's messages acknowledged by position: every one of them up to the PUSH `cursor` given (the
 * newest of a run the device has stored with every one before it), with that message's chat-list preview.
 */
export const GroupCursor = z.strictObject({
  conversationId: z.string().max(128).regex(/^group:/, 'a group conversationId'),
  cursor: z.string().regex(/^\d{13}#[0-9A-Fa-f-]{36}$/, 'a group PUSH cursor'),
  ciphertext: Preview.optional(),
});
export type GroupCursor = z.infer<typeof GroupCursor>;

/**
 * DELIVERED: these messages reached this device and were stored by it; the server may forget them.
 * `previews`, for some of them, go to this user's chat list. Group messages are acknowledged by cursor,
 * per group, in `groups` (they are stored once per group, not queued per device).
 */
export const DeliveredFrame = z
  .strictObject({
    action: z.literal('DELIVERED'),
    requestId: RequestId,
    msgIds: z.array(z.uuid()).max(MAX_ACKNOWLEDGED).default([]),
    previews: z.array(MessagePreview).min(1).max(MAX_ACKNOWLEDGED).optional(),
    groups: z.array(GroupCursor).min(1).max(MAX_GROUP_CURSORS).optional(),
  })
  .refine((frame) => frame.msgIds.length > 0 || frame.groups !== undefined, { message: 'acknowledges nothing: give msgIds or groups', path: ['msgIds'] })
  .refine((frame) => new Set((frame.groups ?? []).map((group) => group.conversationId)).size === (frame.groups ?? []).length, {
    message: 'two cursors for the same group',
    path: ['groups'],
  })
  .refine((frame) => (frame.previews ?? []).every((preview) => frame.msgIds.includes(preview.msgId)), {
    message: 'a preview for a msgId this DELIVERED does not acknowledge',
    path: ['previews'],
  })
  .refine((frame) => new Set((frame.previews ?? []).map((preview) => preview.msgId)).size === (frame.previews ?? []).length, {
    message: 'two previews for the same msgId',
    path: ['previews'],
  })
  .refine((frame) => [...(frame.previews ?? []), ...(frame.groups ?? [])].reduce((total, p) => total + (p.ciphertext?.length ?? 0), 0) <= MAX_PREVIEW_CHARS_PER_DELIVERED, {
    message: `the previews carry more than ${MAX_PREVIEW_CHARS_PER_DELIVERED} base64 characters in total`,
    path: ['previews'],
  });
export type DeliveredFrame = z.infer<typeof DeliveredFrame>;

/** READ: the user has read the conversation up to this message; the sender sees two blue ticks. */
export const ReadFrame = z.strictObject({
  action: z.literal('READ'),
  requestId: RequestId,
  conversationId: z.string().min(1).max(128),
  upToMsgId: z.uuid(),
});
export type ReadFrame = z.infer<typeof ReadFrame>;

/** FETCH_KEYS: prekey bundles of these users' devices, taking one-time prekeys (see docs/protocol.md, Keys). */
export const FetchKeysFrame = z.strictObject({
  action: z.literal('FETCH_KEYS'),
  requestId: RequestId,
  users: keysTargets(MAX_USERS_PER_FETCH_FRAME),
});
export type FetchKeysFrame = z.infer<typeof FetchKeysFrame>;

/** UPLOAD_PREKEYS: the body of `PUT /v1/keys/self` as a frame; it must fit one 128 KB message. */
export const UploadPrekeysFrame = z.strictObject({
  action: z.literal('UPLOAD_PREKEYS'),
  requestId: RequestId,
  ...keysUploadShape,
});
export type UploadPrekeysFrame = z.infer<typeof UploadPrekeysFrame>;

/** What every client frame has; used to answer a frame that matches no route. */
export const AnyClientFrame = z.looseObject({
  action: z.unknown().optional(),
  requestId: z.unknown().optional(),
});

// ---- server → client -------------------------------------------------------------------------

export interface HeartbeatAckFrame {
  type: 'HEARTBEAT_ACK';
  requestId?: string;
  /** Epoch milliseconds until which the server keeps this device's route without another heartbeat. */
  routeExpiresAt: number;
}

/** One grey tick: the message is durably on the stream; a retried SEND of the same msgId gets the same ACK. */
export interface AckFrame {
  type: 'ACK';
  msgId: string;
  /** Epoch milliseconds the server accepted the message. */
  serverTs: number;
  requestId?: string;
}

/** A message for this device: its own envelope of a SEND. */
export interface PushFrame {
  type: 'PUSH';
  msgId: string;
  conversationId: string;
  from: { userId: string; deviceId: number };
  seq: number;
  serverTs: number;
  /** `senderKey`: a group message, the same ciphertext for every member device. */
  envelope: { type: 'prekey' | 'message' | 'senderKey'; ciphertext: string };
  /** Where this message stands in the device's queue; SYNC from it to resume after it. */
  cursor: string;
}

/**
 * Ticks for messages: `delivered` names each message a device stored, `read` the last message read
 * (`msgIds` holds that one). Queued like messages: acknowledge it with DELIVERED of its `receiptId`.
 */
export interface ReceiptFrame {
  type: 'RECEIPT';
  receiptId: string;
  status: 'delivered' | 'read' | 'failed';
  conversationId: string;
  msgIds: string[];
  by: { userId: string; deviceId: number };
  /** In a group: every member has the message (`delivered`) or has read it (`read`); `by` completed it. */
  everyone?: true;
  serverTs: number;
  cursor: string;
}

/**
 * A group's membership changed (version `version`): who did it, who joined, left or was removed, who
 * became admin. Queued like messages, in order with the group's messages: acknowledge it with DELIVERED
 * of its `changeId`. Rotate the Sender Key when anyone left or was removed.
 */
export interface GroupUpdateFrame {
  type: 'GROUP_UPDATE';
  changeId: string;
  groupId: string;
  conversationId: string;
  version: number;
  name: string;
  by: string;
  added: string[];
  removed: string[];
  madeAdmin: string[];
  /** False when a list was too long to send whole (over 64 users): read the group with GET /v1/groups/{groupId}. */
  complete: boolean;
  serverTs: number;
  cursor: string;
}

/**
 * One page of the device's queue, in server order, as the answer to SYNC; SYNC again from `cursor` for
 * the next. A page holds at most 100 frames (one DELIVERED acknowledges them all) and fits one API Gateway message.
 */
export interface SyncPageFrame {
  type: 'SYNC_PAGE';
  frames: QueuedFrame[];
  cursor: string;
  requestId?: string;
}

/** The last page of the queue: `frames` (possibly none), then nothing more is queued. */
export interface QueueEmptyFrame {
  type: 'QUEUE_EMPTY';
  frames: QueuedFrame[];
  requestId?: string;
}

/** The server forgot the acknowledged messages. */
export interface DeliveredAckFrame {
  type: 'DELIVERED_ACK';
  msgIds: string[];
  /**
   * Previews not stored because their message is not in this device's queue (never was, or acknowledged
   * before), or because two senders used their msgId.
   */
  ignoredPreviews?: string[];
  requestId?: string;
}

export interface ReadAckFrame {
  type: 'READ_ACK';
  conversationId: string;
  upToMsgId: string;
  requestId?: string;
}

/** The answer to FETCH_KEYS. */
export interface KeysFrame extends KeysBatch {
  type: 'KEYS';
  requestId?: string;
}

/** The answer to UPLOAD_PREKEYS: the one-time prekeys the device has stored now. */
export interface PrekeysStoredFrame extends PrekeyCounts {
  type: 'PREKEYS_STORED';
  requestId?: string;
}

/**
 * A fetch left this device fewer than 10 one-time prekeys of a kind: upload more. Queued like a receipt
 * (it reaches an offline device on its next SYNC): acknowledge it with DELIVERED of its `noticeId`.
 */
export interface PrekeysLowFrame extends PrekeyCounts {
  type: 'PREKEYS_LOW';
  noticeId: string;
  serverTs: number;
  cursor: string;
}

export interface ErrorFrame {
  type: 'ERROR';
  code: ErrorCode;
  message: string;
  requestId?: string;
  /** The action of the frame that failed, when it had one. */
  action?: string;
  [detail: string]: unknown;
}

/** Why the server ends a session; sent just before it closes the connection. */
export const sessionCloseReasons = {
  /** The same device opened a newer connection (Signal-Server's close code 4409). */
  CONNECTED_ELSEWHERE: 4409,
  /** The device was removed from its account or the account was registered anew. */
  DEVICE_REMOVED: 4401,
} as const;
export type SessionCloseReason = keyof typeof sessionCloseReasons;

/**
 * API Gateway's `@connections` API closes a connection without a close code of our choosing, so the
 * reason travels in this frame first. A client that gets it must not reconnect automatically.
 */
export interface SessionClosedFrame {
  type: 'SESSION_CLOSED';
  reason: SessionCloseReason;
  code: (typeof sessionCloseReasons)[SessionCloseReason];
}

export type ServerFrame =
  | HeartbeatAckFrame
  | AckFrame
  | PushFrame
  | ReceiptFrame
  | GroupUpdateFrame
  | SyncPageFrame
  | QueueEmptyFrame
  | DeliveredAckFrame
  | ReadAckFrame
  | KeysFrame
  | PrekeysStoredFrame
  | PrekeysLowFrame
  | ErrorFrame
  | SessionClosedFrame;
