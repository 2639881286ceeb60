/**
 * What the SDK encrypts for a message: a small JSON structure (the text or bytes and the time the sender
 * sent it), padded to a multiple of 160 bytes so a ciphertext's length tells the server little about the
 * message's (Signal pads the same way). The server sees only ciphertext: this format is the clients' business.
 * A content is a message (text or bytes) or, sent 1:1 only, a group member's Sender Key (`senderKey`),
 * which the receiving SDK processes and never shows, or, between one account's own devices only, a
 * newly linked device's `provisioningRequest` and the `provisioning` that answers it (see provisioning.ts).
 *
 * A message may quote another (`replyTo`). A `type` names content that acts on the conversation rather than
 * adds a message: `reaction`, `edit`, `delete` (for everyone) and `disappearing` (the chat's timer). A `type`
 * this SDK does not know, or a `v` above 1, comes from a newer client: it decodes as `unsupported`, so the
 * app shows "unsupported message" instead of losing it (docs/protocol.md, Message content).
 */

import { attachmentFromWire, attachmentToWire, type Attachment, type WireAttachment } from './media/attachment';

/** A group member's Sender Key for one of its devices: a serialized SenderKeyDistributionMessage. */
export interface SenderKeyDistribution {
  readonly groupId: string;
  /** The distribution (UUID) the key belongs to; a new one after every rotation. */
  readonly distributionId: string;
  readonly skdm: Uint8Array;
}

/** Names a message of the conversation: its sender's userId and its msgId (a msgId is unique per sender only). */
export interface MessageRef {
  readonly author: string;
  readonly msgId: string;
}

/** The disappearing-message timers a chat may have, in seconds: off, 24 hours, 7 days, 90 days. */
export const DISAPPEARING_TIMERS = [0, 24 * 3600, 7 * 24 * 3600, 90 * 24 * 3600] as const;
export type DisappearingTimer = (typeof DISAPPEARING_TIMERS)[number];

/** The longest quoted excerpt a reply carries, in characters. */
export const MAX_EXCERPT_CHARS = 100;
/** The longest reaction, in UTF-16 code units: one emoji, with skin tone and joiners. */
export const MAX_REACTION_CHARS = 16;

/** The content types this SDK reads (`type` on the wire); a plain message has none. */
const KNOWN_TYPES = ['reaction', 'edit', 'delete', 'disappearing'] as const;

export interface MessageContent {
  /** The message as text, when it was sent as text. */
  readonly text?: string;
  /** The message as bytes, when it was sent as bytes. */
  readonly data?: Uint8Array;
  /** The sender's clock when it sent the message, epoch ms. */
  readonly sentAt: number;
  /** Not a message: the sender's Sender Key for a group, for this device only. */
  readonly senderKey?: SenderKeyDistribution;
  /** Not a message: a newly linked device of this account asks for the account's keys, proving it scanned a link code. */
  readonly provisioningRequest?: { readonly proof: Uint8Array };
  /** Not a message: what the linked device `deviceId` needs, sealed for it alone (see provisioning.ts). */
  readonly provisioning?: { readonly deviceId: number; readonly sealed: Uint8Array };
  /** A photo, video, voice note or document: where its encrypted blob is and the key to it (`text` is its caption). */
  readonly attachment?: Attachment;
  /** A reply: the message it quotes, with a short excerpt of it, so it shows even where the original is gone. */
  readonly replyTo?: MessageRef & { readonly excerpt: string };
  /** Not a message: this user's reaction to a message (one per user, replacing the previous); `emoji: null` removes it. */
  readonly reaction?: MessageRef & { readonly emoji: string | null };
  /** Not a message: the sender replaces the text of its own message `msgId` (within 15 minutes). */
  readonly edit?: { readonly msgId: string; readonly text: string };
  /** Not a message: the sender deletes its own message `msgId` for everyone (within 48 hours). */
  readonly deleteForEveryone?: { readonly msgId: string };
  /** Not a message: the chat's disappearing timer changes to `seconds` (0: off). */
  readonly disappearing?: { readonly seconds: DisappearingTimer };
  /** The chat's timer when the message was sent: devices delete it this long after it is read. */
  readonly expiresInSeconds?: number;
  /** Content of a type this SDK does not read (a newer client's): show it as "unsupported message". */
  readonly unsupported?: { readonly type: string; readonly version: number };
}

const PADDING_BLOCK = 160;
/** Marks where the content ends and the padding (zeros) begins. */
const PADDING_START = 0x80;

interface WireContent {
  v: 1;
  type?: (typeof KNOWN_TYPES)[number];
  text?: string;
  data?: string;
  sentAt: number;
  senderKey?: { groupId: string; distributionId: string; skdm: string };
  provisioningRequest?: { proof: string };
  provisioning?: { deviceId: number; sealed: string };
  attachment?: WireAttachment;
  replyTo?: { author: string; msgId: string; excerpt: string };
  /** For `reaction`, `edit` and `delete`: the message acted on; no `author` for edit and delete, whose author is their sender. */
  target?: { author?: string; msgId: string };
  emoji?: string | null;
  timerSeconds?: number;
  expiresInSeconds?: number;
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const fromBase64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

/** `bytes`, then `0x80` and zeros up to a multiple of `block` bytes. */
export function pad(bytes: Uint8Array, block: number): Uint8Array {
  const padded = new Uint8Array(Math.ceil((bytes.length + 1) / block) * block);
  padded.set(bytes);
  padded[bytes.length] = PADDING_START;
  return padded;
}

/** What {@link pad} padded; throws when the padding is not there. */
export function unpad(bytes: Uint8Array): Uint8Array {
  const end = bytes.lastIndexOf(PADDING_START);
  if (end < 0 || bytes.subarray(end + 1).some((byte) => byte !== 0)) throw new Error('the content is not padded');
  return bytes.subarray(0, end);
}

/** The wire `type` and fields of a content that acts on the conversation; nothing for a plain message. */
function actionToWire(content: MessageContent): Partial<WireContent> {
  if (content.reaction) {
    const { author, msgId, emoji } = content.reaction;
    return { type: 'reaction', target: { author, msgId }, emoji };
  }
  if (content.edit) return { type: 'edit', target: { msgId: content.edit.msgId }, text: content.edit.text };
  if (content.deleteForEveryone) return { type: 'delete', target: { msgId: content.deleteForEveryone.msgId } };
  if (content.disappearing) return { type: 'disappearing', timerSeconds: content.disappearing.seconds };
  return {};
}

export function encodeContent(content: MessageContent): Uint8Array {
  const wire: WireContent = {
    v: 1,
    ...(content.text !== undefined ? { text: content.text } : {}),
    ...(content.data !== undefined ? { data: base64(content.data) } : {}),
    sentAt: content.sentAt,
    ...(content.senderKey !== undefined ? { senderKey: { ...content.senderKey, skdm: base64(content.senderKey.skdm) } } : {}),
    ...(content.provisioningRequest !== undefined ? { provisioningRequest: { proof: base64(content.provisioningRequest.proof) } } : {}),
    ...(content.provisioning !== undefined ? { provisioning: { deviceId: content.provisioning.deviceId, sealed: base64(content.provisioning.sealed) } } : {}),
    ...(content.attachment !== undefined ? { attachment: attachmentToWire(content.attachment) } : {}),
    ...(content.replyTo !== undefined ? { replyTo: { ...content.replyTo } } : {}),
    ...(content.expiresInSeconds !== undefined ? { expiresInSeconds: content.expiresInSeconds } : {}),
    ...actionToWire(content),
  };
  return pad(Buffer.from(JSON.stringify(wire), 'utf8'), PADDING_BLOCK);
}

const isString = (value: unknown, max = Infinity): value is string => typeof value === 'string' && value.length > 0 && value.length <= max;
const isUuid = (value: unknown): value is string => typeof value === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);

/** The action a known `type` carries; throws when its fields are not that type's. */
function actionFromWire(wire: Partial<WireContent>): Partial<MessageContent> {
  if (wire.type === undefined) return {};
  const target = wire.target;
  if (wire.type !== 'disappearing' && !(target && isUuid(target.msgId))) throw new Error(`the ${wire.type} names no target msgId`);
  switch (wire.type) {
    case 'reaction':
      if (!isUuid(target!.author)) throw new Error('the reaction names no target author');
      if (!(wire.emoji === null || isString(wire.emoji, MAX_REACTION_CHARS))) throw new Error(`a reaction is one emoji (at most ${MAX_REACTION_CHARS} characters) or null`);
      return { reaction: { author: target!.author, msgId: target!.msgId, emoji: wire.emoji } };
    case 'edit':
      if (!isString(wire.text)) throw new Error('an edit carries the new text');
      return { edit: { msgId: target!.msgId, text: wire.text } };
    case 'delete':
      return { deleteForEveryone: { msgId: target!.msgId } };
    case 'disappearing':
      if (!DISAPPEARING_TIMERS.includes(wire.timerSeconds as DisappearingTimer)) throw new Error(`a disappearing timer is one of ${DISAPPEARING_TIMERS.join(', ')} seconds`);
      return { disappearing: { seconds: wire.timerSeconds as DisappearingTimer } };
    default:
      return {};
  }
}

/** Reads a decrypted content; throws on anything that is not one (the sender's client is broken or hostile). */
export function decodeContent(bytes: Uint8Array): MessageContent {
  const wire = JSON.parse(Buffer.from(unpad(bytes)).toString('utf8')) as Partial<WireContent> & { v?: unknown; type?: unknown };
  if (!Number.isInteger(wire.v) || (wire.v as number) < 1 || typeof wire.sentAt !== 'number') throw new Error('not a message content');
  // A newer client's content: shown as unsupported, never dropped.
  if (wire.v !== 1 || (wire.type !== undefined && !KNOWN_TYPES.includes(wire.type as never))) {
    return { sentAt: wire.sentAt, unsupported: { type: String(wire.type ?? 'unknown'), version: wire.v as number } };
  }
  if (wire.text !== undefined && typeof wire.text !== 'string') throw new Error('the content text is not a string');
  if (wire.data !== undefined && typeof wire.data !== 'string') throw new Error('the content data is not base64');
  const senderKey = wire.senderKey;
  if (senderKey !== undefined && !(typeof senderKey.groupId === 'string' && typeof senderKey.distributionId === 'string' && typeof senderKey.skdm === 'string')) {
    throw new Error('the content sender key is not {groupId, distributionId, skdm}');
  }
  const { provisioningRequest, provisioning, replyTo, expiresInSeconds } = wire;
  if (provisioningRequest !== undefined && typeof provisioningRequest.proof !== 'string') throw new Error('the provisioning request is not {proof}');
  if (provisioning !== undefined && !(Number.isInteger(provisioning.deviceId) && typeof provisioning.sealed === 'string')) {
    throw new Error('the provisioning is not {deviceId, sealed}');
  }
  if (replyTo !== undefined && !(isUuid(replyTo.author) && isUuid(replyTo.msgId) && typeof replyTo.excerpt === 'string' && replyTo.excerpt.length <= MAX_EXCERPT_CHARS)) {
    throw new Error(`the reply is not {author, msgId, excerpt of at most ${MAX_EXCERPT_CHARS} characters}`);
  }
  if (expiresInSeconds !== undefined && !DISAPPEARING_TIMERS.slice(1).includes(expiresInSeconds as DisappearingTimer)) {
    throw new Error('expiresInSeconds is not a disappearing timer');
  }
  return {
    ...(wire.type === 'edit' || wire.text === undefined ? {} : { text: wire.text }),
    ...(wire.data !== undefined ? { data: fromBase64(wire.data) } : {}),
    sentAt: wire.sentAt,
    ...(senderKey !== undefined
      ? { senderKey: { groupId: senderKey.groupId, distributionId: senderKey.distributionId, skdm: fromBase64(senderKey.skdm) } }
      : {}),
    ...(provisioningRequest !== undefined ? { provisioningRequest: { proof: fromBase64(provisioningRequest.proof) } } : {}),
    ...(provisioning !== undefined ? { provisioning: { deviceId: provisioning.deviceId, sealed: fromBase64(provisioning.sealed) } } : {}),
    ...(wire.attachment !== undefined ? { attachment: attachmentFromWire(wire.attachment) } : {}),
    ...(replyTo !== undefined ? { replyTo: { author: replyTo.author, msgId: replyTo.msgId, excerpt: replyTo.excerpt } } : {}),
    ...(expiresInSeconds !== undefined ? { expiresInSeconds } : {}),
    ...actionFromWire(wire),
  };
}
