/**
 * The WebSocket wire protocol: one schema per frame. A client frame names its route in `action`
 * (API Gateway selects the route on `$request.body.action`); a server frame names itself in `type`.
 * A client may add a `requestId`, which the answer echoes so it can match answers to frames.
 *
 * Each frame's schema is a `z.lazy(() => …)` marked `@__PURE__`: built on its first parse rather than at
 * import, and, free of side effects as far as esbuild knows, left out of every Lambda bundle that never
 * names it (a route parses one frame; every bundle that imported a constant from here built all fifteen).
 */
import * as z from './zod';
import type { ErrorCode } from './errors';
import type { PresenceView } from './contacts-api';
import { keysTargets, keysUploadShape, MAX_USERS_PER_FETCH_FRAME, RegistrationId, type KeysBatch, type PrekeyCounts } from './keys-api';

const RequestId = z.optional(z.string().check(z.minLength(1), z.maxLength(64)));
const ConversationId = z.string().check(z.minLength(1), z.maxLength(128));
/** A sender device's count of its messages in a conversation. */
const Seq = z.number().check(z.int(), z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER));

// ---- client → server -------------------------------------------------------------------------

export const HeartbeatFrame = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    action: z.literal('HEARTBEAT'),
    requestId: RequestId,
  }),
);
export type HeartbeatFrame = z.infer<typeof HeartbeatFrame>;

/** The most ciphertext one message may carry, over all its envelopes, in base64 characters (Signal-Server's 96 KiB). */
export const MAX_CIPHERTEXT_CHARS = 96 * 1024;
/** Envelopes in one SEND: every device of the recipient and every other device of the sender. */
export const MAX_ENVELOPES = 10;

const Base64 = z.string().check(z.minLength(1), z.regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64 ciphertext'));

/** The most bytes of one chat-list preview, decoded. */
export const MAX_PREVIEW_BYTES = 1024;

/**
 * A chat-list preview: a ciphertext that only the user's own devices can read (under their shared
 * chat-list key, see docs/protocol.md); the server stores it for that user and never reads it.
 */
const Preview = Base64.check(
  z.refine((preview) => Buffer.byteLength(preview, 'base64') <= MAX_PREVIEW_BYTES, {
    message: `a preview is at most ${MAX_PREVIEW_BYTES} bytes`,
  }),
);

/**
 * One Signal ciphertext for one device: a PreKeySignalMessage starts a session, a SignalMessage continues
 * it. `registrationId` is the one of the device the session was made with, so that the server can tell a
 * session with an earlier holder of the device id (a number registered again) from one with this device.
 */
export const Envelope = z.strictObject({
  userId: z.uuid(),
  deviceId: z.number().check(z.int(), z.minimum(1), z.maximum(127)),
  registrationId: RegistrationId,
  type: z.enum(['prekey', 'message']),
  ciphertext: Base64,
});
export type Envelope = z.infer<typeof Envelope>;

/** How long a queued copy waits at most, in seconds (30 days): a SEND's `expiresInSeconds` may only shorten it. */
export const MAX_QUEUE_SECONDS = 30 * 24 * 60 * 60;

/** What SEND and GROUP_SEND say alike about how a message is delivered: one definition for both frames. */
export const DeliveryOptions = z.strictObject({
  /** The chat's disappearing timer: the queued copies expire after this, if sooner than 30 days. */
  expiresInSeconds: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(MAX_QUEUE_SECONDS))),
  /** Not a message but an action on the chat (a reaction, edit, delete or timer): the chat lists' activity, unread and previews stay as they are. */
  control: z.optional(z.literal(true)),
});

/**
 * SEND: one message to one user, encrypted once per device of the recipient (`to`) and once per other
 * device of the sender. `seq` counts the sender device's messages in the conversation, so the recipient
 * sees a gap. There is no `from`: the sender is the authenticated device. `preview` goes to the sender's
 * own chat list.
 */
export const SendFrame = /* @__PURE__ */ z.lazy(() =>
  z
    .strictObject({
      action: z.literal('SEND'),
      requestId: RequestId,
      msgId: z.uuid(),
      conversationId: ConversationId,
      to: z.uuid(),
      seq: Seq,
      envelopes: z.array(Envelope).check(z.minLength(1), z.maxLength(MAX_ENVELOPES)),
      preview: z.optional(Preview),
      ...DeliveryOptions.shape,
    })
    .check(
      z.refine((frame) => frame.envelopes.reduce((total, e) => total + e.ciphertext.length, 0) <= MAX_CIPHERTEXT_CHARS, {
        message: `the envelopes carry more than ${MAX_CIPHERTEXT_CHARS} base64 characters of ciphertext in total`,
        path: ['envelopes'],
      }),
      z.refine((frame) => new Set(frame.envelopes.map((e) => `${e.userId}.${e.deviceId}`)).size === frame.envelopes.length, {
        message: 'two envelopes for the same device',
        path: ['envelopes'],
      }),
    ),
);
export type SendFrame = z.infer<typeof SendFrame>;

/**
 * GROUP_SEND: one message to a group, encrypted once with the sender's Sender Key (a SenderKeyMessage),
 * whatever the group's size. The sender distributes its Sender Key to each member device beforehand over
 * their 1:1 sessions (ordinary SENDs). Only current members may send, and only for the group's current
 * version: a sender that missed a change would leave a new member without its key.
 */
export const GroupSendFrame = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    action: z.literal('GROUP_SEND'),
    requestId: RequestId,
    msgId: z.uuid(),
    conversationId: z.string().check(z.regex(/^group:[0-9a-f-]{36}$/, 'a group conversation, group:<groupId>')),
    seq: Seq,
    /** The group's version the sender encrypted for: its members are the ones who have the Sender Key. */
    groupVersion: z.number().check(z.int(), z.minimum(1)),
    ciphertext: Base64.check(z.maxLength(MAX_CIPHERTEXT_CHARS, `at most ${MAX_CIPHERTEXT_CHARS} base64 characters of ciphertext`)),
    ...DeliveryOptions.shape,
  }),
);
export type GroupSendFrame = z.infer<typeof GroupSendFrame>;

/** How long after it was accepted its sender may revoke a message (delete for everyone). */
export const REVOKE_WINDOW_MS = 48 * 60 * 60 * 1000;

/**
 * REVOKE: delete for everyone. Drops the copies of the caller's message `msgId` (1:1 or group) still
 * waiting in device queues, now and, through a revoke record behind the message on the stream, those its
 * fan-out writes later, so an offline device never downloads it; answered with how many were dropped at
 * once (docs/protocol.md says how each kind counts). Only the message's sender (any device of its account)
 * may, within 48 hours. Devices that have it already learn of it from the encrypted delete the SDK sends next.
 */
export const RevokeFrame = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    action: z.literal('REVOKE'),
    requestId: RequestId,
    msgId: z.uuid(),
  }),
);
export type RevokeFrame = z.infer<typeof RevokeFrame>;

/** What a device's queue hands out, live or by SYNC. */
export type QueuedFrame = PushFrame | ReceiptFrame | GroupUpdateFrame | PrekeysLowFrame;

/** Most frames one DELIVERED may acknowledge. */
export const MAX_ACKNOWLEDGED = 100;

/**
 * Most preview ciphertext one DELIVERED may carry, in base64 characters: with 100 cursors the frame stays
 * under API Gateway's 128 KB message limit.
 */
export const MAX_PREVIEW_CHARS_PER_DELIVERED = 96 * 1024;

/** A preview of one message for the chat list of the user it was delivered to. */
export const MessagePreview = /* @__PURE__ */ z.lazy(() => z.strictObject({ msgId: z.uuid(), ciphertext: Preview }));
export type MessagePreview = z.infer<typeof MessagePreview>;

/** A queued frame's `cursor`: its place in the device's queue, `<serverTs, 13 digits>#<id>`. */
export const Cursor = /* @__PURE__ */ z.lazy(() => z.string().check(z.regex(/^\d{13}#[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'a cursor of a queued frame')));

/** The id (msgId, receiptId, noticeId or changeId) a cursor ends with. */
export const idOfCursor = (cursor: string) => cursor.slice(cursor.indexOf('#') + 1);

/** Groups one DELIVERED may acknowledge by cursor. */
export const MAX_GROUP_CURSORS = 100;

/**
 * A group's messages acknowledged by position: every one of them up to the PUSH `cursor` given (the
 * newest of a run the device has stored with every one before it), with that message's chat-list preview.
 */
export const GroupCursor = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    conversationId: z.string().check(z.maxLength(128), z.regex(/^group:/, 'a group conversationId')),
    cursor: Cursor,
    ciphertext: z.optional(Preview),
  }),
);
export type GroupCursor = z.infer<typeof GroupCursor>;

/** Groups acknowledged by cursor in one frame (DELIVERED or SYNC): each group at most once, the previews within the frame's budget. */
const GroupCursors = /* @__PURE__ */ z.lazy(() =>
  z.array(GroupCursor).check(
    z.minLength(1),
    z.maxLength(MAX_GROUP_CURSORS),
    z.refine((groups) => new Set(groups.map((group) => group.conversationId)).size === groups.length, { message: 'two cursors for the same group' }),
  ),
);

/** Base64 characters of preview ciphertext a frame carries, its 1:1 and group previews together. */
const previewChars = (previews: readonly { ciphertext?: string }[]) => previews.reduce((total, p) => total + (p.ciphertext?.length ?? 0), 0);

/**
 * SYNC: answer me the page of my queue after `cursor` (the previous page's cursor), or its first page.
 * The last page also carries the delivery state of this user's conversations that changed after
 * `receiptsAfter` (the largest `serverTs` of such a receipt the device has seen). `groups` acknowledges
 * group messages as DELIVERED's does, before the page is read: a device's return is then one SYNC and its
 * answer, its group messages acknowledged with its next SYNC (or DELIVERED).
 */
export const SyncFrame = /* @__PURE__ */ z.lazy(() =>
  z
    .strictObject({
      action: z.literal('SYNC'),
      requestId: RequestId,
      cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
      receiptsAfter: z.optional(z.number().check(z.int(), z.minimum(0))),
      groups: z.optional(GroupCursors),
    })
    .check(
      z.refine((frame) => previewChars(frame.groups ?? []) <= MAX_PREVIEW_CHARS_PER_DELIVERED, {
        message: `the previews carry more than ${MAX_PREVIEW_CHARS_PER_DELIVERED} base64 characters in total`,
        path: ['groups'],
      }),
    ),
);
export type SyncFrame = z.infer<typeof SyncFrame>;

/**
 * DELIVERED: the frames at these cursors reached this device and were stored by it; the server may
 * forget them. `previews`, for some of those messages (by msgId), go to this user's chat list. Group
 * messages are acknowledged by cursor, per group, in `groups` (they are stored once per group, not
 * queued per device).
 */
export const DeliveredFrame = /* @__PURE__ */ z.lazy(() =>
  z
    .strictObject({
      action: z.literal('DELIVERED'),
      requestId: RequestId,
      cursors: z._default(z.array(Cursor).check(z.maxLength(MAX_ACKNOWLEDGED)), []),
      previews: z.optional(z.array(MessagePreview).check(z.minLength(1), z.maxLength(MAX_ACKNOWLEDGED))),
      groups: z.optional(GroupCursors),
    })
    .check(
      z.refine((frame) => frame.cursors.length > 0 || frame.groups !== undefined, { message: 'acknowledges nothing: give cursors or groups', path: ['cursors'] }),
      z.refine((frame) => (frame.previews ?? []).every((preview) => frame.cursors.some((cursor) => idOfCursor(cursor) === preview.msgId)), {
        message: 'a preview for a msgId this DELIVERED does not acknowledge',
        path: ['previews'],
      }),
      z.refine((frame) => new Set((frame.previews ?? []).map((preview) => preview.msgId)).size === (frame.previews ?? []).length, {
        message: 'two previews for the same msgId',
        path: ['previews'],
      }),
      z.refine((frame) => previewChars([...(frame.previews ?? []), ...(frame.groups ?? [])]) <= MAX_PREVIEW_CHARS_PER_DELIVERED, {
        message: `the previews carry more than ${MAX_PREVIEW_CHARS_PER_DELIVERED} base64 characters in total`,
        path: ['previews'],
      }),
    ),
);
export type DeliveredFrame = z.infer<typeof DeliveredFrame>;

/** READ: the user has read the conversation up to this message; the sender sees two blue ticks. */
export const ReadFrame = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    action: z.literal('READ'),
    requestId: RequestId,
    conversationId: ConversationId,
    upToMsgId: z.uuid(),
  }),
);
export type ReadFrame = z.infer<typeof ReadFrame>;

/** FETCH_KEYS: prekey bundles of these users' devices, taking one-time prekeys (see docs/protocol.md, Keys). */
export const FetchKeysFrame = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    action: z.literal('FETCH_KEYS'),
    requestId: RequestId,
    users: keysTargets(MAX_USERS_PER_FETCH_FRAME),
  }),
);
export type FetchKeysFrame = z.infer<typeof FetchKeysFrame>;

/** UPLOAD_PREKEYS: the body of `PUT /v1/keys/self` as a frame; it must fit one 128 KB message. */
export const UploadPrekeysFrame = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    action: z.literal('UPLOAD_PREKEYS'),
    requestId: RequestId,
    ...keysUploadShape,
  }),
);
export type UploadPrekeysFrame = z.infer<typeof UploadPrekeysFrame>;

/** The most users one connection watches the presence of: a SUBSCRIBE_PRESENCE names them all. */
export const MAX_PRESENCE_SUBSCRIPTIONS = 64;

/**
 * SUBSCRIBE_PRESENCE: this connection watches exactly these users (those whose chats are open), replacing
 * what it watched before; `[]` stops. Expires with the connection: subscribe again after a reconnect.
 */
export const SubscribePresenceFrame = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    action: z.literal('SUBSCRIBE_PRESENCE'),
    requestId: RequestId,
    userIds: z.array(z.uuid()).check(
      z.maxLength(MAX_PRESENCE_SUBSCRIPTIONS),
      z.refine((ids) => new Set(ids).size === ids.length, 'each userId once'),
    ),
  }),
);
export type SubscribePresenceFrame = z.infer<typeof SubscribePresenceFrame>;

/** TYPING: the user is composing in a conversation, or stopped; best effort, to the others' live devices only. */
export const TypingFrame = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    action: z.literal('TYPING'),
    requestId: RequestId,
    conversationId: ConversationId,
    state: z.enum(['composing', 'paused']),
  }),
);
export type TypingFrame = z.infer<typeof TypingFrame>;

/** What every client frame has; used to answer a frame that matches no route. */
export const AnyClientFrame = /* @__PURE__ */ z.lazy(() =>
  z.looseObject({
    action: z.optional(z.unknown()),
    requestId: z.optional(z.unknown()),
  }),
);

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
 * Ticks for messages: `delivered` names messages a device stored, `read` the last message read
 * (`msgIds` holds that one). A queued one has a `cursor`: acknowledge it with DELIVERED. A 1:1
 * `delivered` receipt is not queued but the conversation's delivery state (`upToServerTs`), pushed live
 * and handed out again at SYNC: it has no cursor and is not acknowledged.
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
  /** A 1:1 `delivered` state: every message of the conversation sent to `by`'s user up to this serverTs is delivered. */
  upToServerTs?: number;
  serverTs: number;
  /** Only on a queued receipt. */
  cursor?: string;
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
  /** msgIds of the SYNC's group previews (`groups[].ciphertext`) not stored, as DELIVERED_ACK's. */
  ignoredPreviews?: string[];
  requestId?: string;
}

/** The last page of the queue: `frames` (possibly none), then nothing more is queued. */
export interface QueueEmptyFrame {
  type: 'QUEUE_EMPTY';
  frames: QueuedFrame[];
  /** msgIds of the SYNC's group previews (`groups[].ciphertext`) not stored, as DELIVERED_ACK's. */
  ignoredPreviews?: string[];
  requestId?: string;
}

/** The server forgot the acknowledged messages. */
export interface DeliveredAckFrame {
  type: 'DELIVERED_ACK';
  cursors: string[];
  /**
   * Previews not stored because their message is not in this device's queue (never was, or acknowledged
   * before), or because two senders used their msgId.
   */
  ignoredPreviews?: string[];
  requestId?: string;
}

/** The answer to REVOKE: `dropped` queued copies of `msgId` will never be handed out. */
export interface RevokeAckFrame {
  type: 'REVOKE_ACK';
  msgId: string;
  dropped: number;
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

/** A watched user's presence, as the watching user may see it: on subscribing, and at every change. Never queued. */
export interface PresenceFrame extends PresenceView {
  type: 'PRESENCE';
}

/** The answer to SUBSCRIBE_PRESENCE: the watched users' presence now. */
export interface PresenceSubscribedFrame {
  type: 'PRESENCE_SUBSCRIBED';
  presence: PresenceView[];
  requestId?: string;
}

/** Someone in the conversation is composing (show it for about 5 s unless refreshed) or stopped. Never queued. */
export interface TypingNoticeFrame {
  type: 'TYPING';
  conversationId: string;
  from: { userId: string; deviceId: number };
  state: 'composing' | 'paused';
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
  | RevokeAckFrame
  | KeysFrame
  | PrekeysStoredFrame
  | PrekeysLowFrame
  | ErrorFrame
  | SessionClosedFrame
  | PresenceFrame
  | PresenceSubscribedFrame
  | TypingNoticeFrame;
