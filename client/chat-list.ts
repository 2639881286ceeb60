/**
 * The chat list a device shows, previews included, and the previews it writes (see docs/protocol.md,
 * *Chat-list previews*). A preview is sealed under the account's newest chat-list key as
 * `version (1) ‖ keyId (1) ‖ nonce (12) ‖ AES-256-GCM ciphertext ‖ tag (16)`, with the additional data
 * `parley-preview-v1:<userId>:<conversationId>:<msgId>`, so the server can neither read a preview nor move it
 * to another row or message. What it seals is UTF-8 JSON `{"v":1,"from","sentAt","text"?,"data"?}`, the
 * text cut to 200 characters, padded like a message content to a multiple of 64 bytes.
 */
import type { ChatListEntry } from '../lambdas/accounts/chat-list';
import { MAX_PREVIEW_BYTES } from '../lambdas/protocol/frames';
import { AEAD_OVERHEAD, open, seal } from './aead';
import type { ChatListKeys } from './chat-list-keys';
import { pad, unpad } from './content';
import type { HttpClient } from './http-client';

const PREVIEW_VERSION = 1;
const HEADER_BYTES = 2;
const PADDING_BLOCK = 64;
/** The padded plaintext that fits a preview: 960 of the 994 bytes the limit leaves. */
const MAX_PADDED_BYTES = Math.floor((MAX_PREVIEW_BYTES - HEADER_BYTES - AEAD_OVERHEAD) / PADDING_BLOCK) * PADDING_BLOCK;
/** A chat list shows a line or two of a message. */
const MAX_PREVIEW_CHARACTERS = 200;

/** What a chat list shows of a conversation's newest message. */
export interface ChatPreview {
  readonly msgId: string;
  /** The userId of the message's sender: this user's own for a message it sent. */
  readonly from: string;
  /** The sender's clock when it sent the message. */
  readonly sentAt: number;
  /** The start of the message's text (200 characters at most), when it was text. */
  readonly text?: string;
  /** The message was bytes; none of them is in the preview. */
  readonly data?: true;
}

/** One conversation of the chat list, newest activity first, as {@link ParleyClient.chatList} answers. */
export interface Chat {
  readonly conversationId: string;
  readonly lastActivityAt: number;
  readonly lastMsgId: string;
  readonly unreadCount: number;
  /** The newest preview this user's devices wrote, if this device could open it; its msgId may be older than `lastMsgId`. */
  readonly preview?: ChatPreview;
}

/** The message a preview is written for. */
export interface PreviewedMessage {
  readonly msgId: string;
  readonly conversationId: string;
  readonly from: string;
  readonly sentAt: number;
  readonly text?: string;
  readonly data?: Uint8Array;
}

interface WirePreview {
  v: 1;
  from: string;
  sentAt: number;
  text?: string;
  data?: true;
}

export class ChatList {
  constructor(
    private readonly keys: ChatListKeys,
    /** Whose chat list: previews are bound to this user's rows. */
    private readonly userId: string,
    private readonly http: HttpClient,
  ) {}

  /** The chat list from the server, with each preview this device can open. */
  async read(): Promise<Chat[]> {
    const { conversations } = await this.http.request<{ conversations: ChatListEntry[] }>('GET', '/v1/conversations');
    return Promise.all(
      conversations.map(async ({ preview, ...entry }) => {
        const opened = preview && (await this.open(entry.conversationId, preview));
        return { ...entry, ...(opened ? { preview: opened } : {}) };
      }),
    );
  }

  /** The message's preview for this user's row, base64, or none before this device holds a chat-list key. */
  async seal(message: PreviewedMessage): Promise<string | undefined> {
    const current = await this.keys.current();
    if (!current) return undefined;
    const sealed = seal(current.key, previewPlaintext(message), additionalData(this.userId, message.conversationId, message.msgId));
    return Buffer.concat([Uint8Array.of(PREVIEW_VERSION, current.keyId), sealed]).toString('base64');
  }

  /** The preview, or none when it is not one this device can open (an unknown key, or moved to another row). */
  async open(conversationId: string, preview: { msgId: string; ciphertext: string }): Promise<ChatPreview | undefined> {
    const bytes = Buffer.from(preview.ciphertext, 'base64');
    if (bytes.length < HEADER_BYTES || bytes[0] !== PREVIEW_VERSION) return undefined;
    const key = await this.keys.get(bytes[1]!);
    const plaintext = key && open(key, bytes.subarray(HEADER_BYTES), additionalData(this.userId, conversationId, preview.msgId));
    if (!plaintext) return undefined;
    try {
      const wire = JSON.parse(Buffer.from(unpad(plaintext)).toString('utf8')) as Partial<WirePreview>;
      if (wire.v !== 1 || typeof wire.from !== 'string' || typeof wire.sentAt !== 'number' || (wire.text !== undefined && typeof wire.text !== 'string')) return undefined;
      return { msgId: preview.msgId, from: wire.from, sentAt: wire.sentAt, ...(wire.text !== undefined ? { text: wire.text } : {}), ...(wire.data ? { data: true } : {}) };
    } catch {
      return undefined;
    }
  }
}

const additionalData = (userId: string, conversationId: string, msgId: string) => `parley-preview-v1:${userId}:${conversationId}:${msgId}`;

/** The preview's JSON, padded; a text that is long in bytes (emoji, escapes) is cut shorter until it fits. */
function previewPlaintext(message: PreviewedMessage): Uint8Array {
  let characters = message.text === undefined ? undefined : Array.from(message.text).slice(0, MAX_PREVIEW_CHARACTERS);
  for (;;) {
    const wire: WirePreview = {
      v: 1,
      from: message.from,
      sentAt: message.sentAt,
      ...(characters ? { text: characters.join('') } : {}),
      ...(message.data ? { data: true } : {}),
    };
    const json = Buffer.from(JSON.stringify(wire), 'utf8');
    if (json.length < MAX_PADDED_BYTES || !characters?.length) return pad(json, PADDING_BLOCK);
    characters = characters.slice(0, Math.floor(characters.length * 0.75));
  }
}
