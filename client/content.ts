/**
 * What the SDK encrypts for a message: a small JSON structure (the text or bytes and the time the sender
 * sent it), padded to a multiple of 160 bytes so a ciphertext's length tells the server little about the
 * message's (Signal pads the same way). The server sees only ciphertext: this format is the clients' business.
 * A content is a message (text or bytes) or, sent 1:1 only, a group member's Sender Key (`senderKey`),
 * which the receiving SDK processes and never shows, or, between one account's own devices only, a
 * newly linked device's `provisioningRequest` and the `provisioning` that answers it (see provisioning.ts).
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
  /** Not a message: a newly linked device of this account asks for the account's keys, proving it scanned a link code. */
  readonly provisioningRequest?: { readonly proof: Uint8Array };
  /** Not a message: what the linked device `deviceId` needs, sealed for it alone (see provisioning.ts). */
  readonly provisioning?: { readonly deviceId: number; readonly sealed: Uint8Array };
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
  provisioningRequest?: { proof: string };
  provisioning?: { deviceId: number; sealed: string };
  attachment?: WireAttachment;
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
  };
  return pad(Buffer.from(JSON.stringify(wire), 'utf8'), PADDING_BLOCK);
}

/** Reads a decrypted content; throws on anything that is not one (the sender's client is broken or hostile). */
export function decodeContent(bytes: Uint8Array): MessageContent {
  const wire = JSON.parse(Buffer.from(unpad(bytes)).toString('utf8')) as Partial<WireContent>;
  if (wire.v !== 1 || typeof wire.sentAt !== 'number') throw new Error('not a version 1 message content');
  if (wire.text !== undefined && typeof wire.text !== 'string') throw new Error('the content text is not a string');
  if (wire.data !== undefined && typeof wire.data !== 'string') throw new Error('the content data is not base64');
  const senderKey = wire.senderKey;
  if (senderKey !== undefined && !(typeof senderKey.groupId === 'string' && typeof senderKey.distributionId === 'string' && typeof senderKey.skdm === 'string')) {
    throw new Error('the content sender key is not {groupId, distributionId, skdm}');
  }
  const { provisioningRequest, provisioning } = wire;
  if (provisioningRequest !== undefined && typeof provisioningRequest.proof !== 'string') throw new Error('the provisioning request is not {proof}');
  if (provisioning !== undefined && !(Number.isInteger(provisioning.deviceId) && typeof provisioning.sealed === 'string')) {
    throw new Error('the provisioning is not {deviceId, sealed}');
  }
  return {
    ...(wire.text !== undefined ? { text: wire.text } : {}),
    ...(wire.data !== undefined ? { data: fromBase64(wire.data) } : {}),
    sentAt: wire.sentAt,
    ...(senderKey !== undefined
      ? { senderKey: { groupId: senderKey.groupId, distributionId: senderKey.distributionId, skdm: fromBase64(senderKey.skdm) } }
      : {}),
    ...(provisioningRequest !== undefined ? { provisioningRequest: { proof: fromBase64(provisioningRequest.proof) } } : {}),
    ...(provisioning !== undefined ? { provisioning: { deviceId: provisioning.deviceId, sealed: fromBase64(provisioning.sealed) } } : {}),
    ...(wire.attachment !== undefined ? { attachment: attachmentFromWire(wire.attachment) } : {}),
  };
}
