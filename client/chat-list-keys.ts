/**
 * The account's chat-list keys: 32-byte AES-256-GCM keys, numbered by a one-byte keyId, that all of the
 * account's devices share and the server never sees. The primary makes the first at registration; a
 * linked device receives them all in its provisioning message. Previews are written under the newest
 * key and read under the one they name, so earlier keys are kept.
 */
import { randomBytes } from 'node:crypto';
import { AEAD_KEY_BYTES } from './aead';
import { namespaces as ns, type KeyValueStore } from './store/key-value-store';

export interface ChatListKey {
  /** 1–255, written in each preview. */
  readonly keyId: number;
  readonly key: Uint8Array;
}

export const FIRST_CHAT_LIST_KEY_ID = 1;
const MAX_KEY_ID = 255;

export const isValidChatListKey = (key: ChatListKey) =>
  Number.isInteger(key.keyId) && key.keyId >= FIRST_CHAT_LIST_KEY_ID && key.keyId <= MAX_KEY_ID && key.key.length === AEAD_KEY_BYTES;

export class ChatListKeys {
  /** Read from the store once; this object is the store's only writer of these keys. */
  private loaded: Promise<Map<number, Uint8Array>> | undefined;

  constructor(private readonly store: KeyValueStore) {}

  /** Every key this device holds, oldest first. */
  async all(): Promise<ChatListKey[]> {
    return [...(await this.keys())].sort(([a], [b]) => a - b).map(([keyId, key]) => ({ keyId, key }));
  }

  /** The key new previews are written under (the newest), or none before this device is provisioned. */
  async current(): Promise<ChatListKey | undefined> {
    return (await this.all()).at(-1);
  }

  async get(keyId: number): Promise<Uint8Array | undefined> {
    return (await this.keys()).get(keyId);
  }

  /** The primary's first key, made once (at registration, or at the first start of a store made before there were keys). */
  async createFirst(): Promise<void> {
    if ((await this.keys()).size) return;
    await this.add([{ keyId: FIRST_CHAT_LIST_KEY_ID, key: randomBytes(AEAD_KEY_BYTES) }]);
  }

  /** Keeps the keys whose keyId this device lacks (a key it holds is never replaced); answers the keyIds added. */
  async add(keys: readonly ChatListKey[]): Promise<number[]> {
    const held = await this.keys();
    const added: number[] = [];
    for (const { keyId, key } of keys) {
      if (held.has(keyId)) continue;
      await this.store.put(ns.chatListKeys, String(keyId), key);
      held.set(keyId, Uint8Array.from(key));
      added.push(keyId);
    }
    return added;
  }

  private keys(): Promise<Map<number, Uint8Array>> {
    this.loaded ??= (async () => {
      const ids = await this.store.keys(ns.chatListKeys);
      const keys = await Promise.all(ids.map(async (id) => [Number(id), (await this.store.get(ns.chatListKeys, id))!] as const));
      return new Map(keys);
    })();
    return this.loaded;
  }
}
