/**
 * What the SDK encrypts for a message: a small JSON structure (the text or bytes and the time the sender
 * sent it), padded to a multiple of 160 bytes so a ciphertext's length tells the server little about the
 * message's (Signal pads the same way). The server sees only ciphertext: this format is the clients' business.
 * A content is a message (text or bytes) or, sent 1:1 only, a group member's Sender Key (`senderKey`),
 * which the receiving SDK processes and never shows.
 */

import { attachmentFromWire, attachmentToWire, type Attachment, type WireAttachment } from './media/attachment';

/** A group member's Sender Key for one of its devices: a serialized SenderKeyDistributionMessage. */
export interface SenderKeyDistribution {
  readonly groupId: string;
  /** The distribution (UUID) the key belongs to; a new one after every rotation. */
  readonly distributionId: string;
  readonly skdm: Uint8Array;
}

export interface MessageContent {
  /** The message as text, when it was sent as text. */
  readonly text?: string;
  /** The message as bytes, when it was sent as bytes. */
  readonly data?: Uint8Array;
  /** The sender's clock when it sent the message, epoch ms. */
  readonly sentAt: number;
  /** Not a message: the sender's Sender Key for a group, for this device only. */
  readonly senderKey?: SenderKeyDistribution;
  /** A photo, video, voice note or document: where its encrypted blob is and the key to it (`text` is its caption). */
  readonly attachment?: Attachment;
}

const PADDING_BLOCK = 160;
/** Marks where the content ends and the padding (zeros) begins. */
const PADDING_START = 0x80;

interface WireContent {
  v: 1;
  text?: string;
  data?: string;
  sentAt: number;
  senderKey?: { groupId: string; distributionId: string; skdm: string };
  attachment?: WireAttachment;
}

export function encodeContent(content: MessageContent): Uint8Array {
  const wire: WireContent = {
    v: 1,
    ...(content.text !== undefined ? { text: content.text } : {}),
    ...(content.data !== undefined ? { data: Buffer.from(content.data).toString('base64') } : {}),
    sentAt: content.sentAt,
    ...(content.senderKey !== undefined ? { senderKey: { ...content.senderKey, skdm: Buffer.from(content.senderKey.skdm).toString('base64') } } : {}),
    ...(content.attachment !== undefined ? { attachment: attachmentToWire(content.attachment) } : {}),
  };
  const json = Buffer.from(JSON.stringify(wire), 'utf8');
  const padded = new Uint8Array(Math.ceil((json.length + 1) / PADDING_BLOCK) * PADDING_BLOCK);
  padded.set(json);
  padded[json.length] = PADDING_START;
  return padded;
}

/** Reads a decrypted content; throws on anything that is not one (the sender's client is broken or hostile). */
export function decodeContent(bytes: Uint8Array): MessageContent {
  const end = bytes.lastIndexOf(PADDING_START);
  if (end < 0 || bytes.subarray(end + 1).some((byte) => byte !== 0)) throw new Error('the content is not padded');
  const wire = JSON.parse(Buffer.from(bytes.subarray(0, end)).toString('utf8')) as Partial<WireContent>;
  if (wire.v !== 1 || typeof wire.sentAt !== 'number') throw new Error('not a version 1 message content');
  if (wire.text !== undefined && typeof wire.text !== 'string') throw new Error('the content text is not a string');
  if (wire.data !== undefined && typeof wire.data !== 'string') throw new Error('the content data is not base64');
  const senderKey = wire.senderKey;
  if (senderKey !== undefined && !(typeof senderKey.groupId === 'string' && typeof senderKey.distributionId === 'string' && typeof senderKey.skdm === 'string')) {
    throw new Error('the content sender key is not {groupId, distributionId, skdm}');
  }
  return {
    ...(wire.text !== undefined ? { text: wire.text } : {}),
    ...(wire.data !== undefined ? { data: new Uint8Array(Buffer.from(wire.data, 'base64')) } : {}),
    sentAt: wire.sentAt,
    ...(senderKey !== undefined
      ? { senderKey: { groupId: senderKey.groupId, distributionId: senderKey.distributionId, skdm: new Uint8Array(Buffer.from(senderKey.skdm, 'base64')) } }
      : {}),
    ...(wire.attachment !== undefined ? { attachment: attachmentFromWire(wire.attachment) } : {}),
  };
}
