/**
 * Where a device keeps its secrets and state: its identity and prekeys, its Signal sessions, the identity
 * keys of its peers, sender keys, and the SDK's own bookkeeping (msgIds seen, sequence numbers). Values are
 * bytes under a key inside a namespace. Everything the SDK stores goes through this interface, so an app
 * can put it in its own database; {@link MemoryStore} and {@link FileStore} come with the SDK.
 *
 * A write must be durable when its promise resolves: the SDK acknowledges a message to the server only
 * after the state it changed is stored.
 */
export interface KeyValueStore {
  get(namespace: string, key: string): Promise<Uint8Array | undefined>;
  put(namespace: string, key: string, value: Uint8Array): Promise<void>;
  delete(namespace: string, key: string): Promise<void>;
  /** Every key of the namespace, in no particular order. */
  keys(namespace: string): Promise<string[]>;
}

/** The namespaces the SDK uses, one place, so a store's content can be read by name. */
export const namespaces = {
  account: 'account',
  sessions: 'sessions',
  identities: 'identities',
  prekeys: 'prekeys',
  signedPrekeys: 'signedPrekeys',
  kyberPrekeys: 'kyberPrekeys',
  lastResortKyberPrekeys: 'lastResortKyberPrekeys',
  kyberPrekeysUsed: 'kyberPrekeysUsed',
  senderKeys: 'senderKeys',
  seenMessages: 'seenMessages',
  decryptedMessages: 'decryptedMessages',
  receivedSeq: 'receivedSeq',
  sentSeq: 'sentSeq',
  deviceLists: 'deviceLists',
  groups: 'groups',
  senderKeyDistributions: 'senderKeyDistributions',
  chatListKeys: 'chatListKeys',
  linkSecrets: 'linkSecrets',
  mediaUploads: 'mediaUploads',
  deliveryStates: 'deliveryStates',
  verifiedIdentities: 'verifiedIdentities',
  messageLog: 'messageLog',
  disappearingTimers: 'disappearingTimers',
} as const;

export async function getJson<T>(store: KeyValueStore, namespace: string, key: string): Promise<T | undefined> {
  const bytes = await store.get(namespace, key);
  return bytes === undefined ? undefined : (JSON.parse(Buffer.from(bytes).toString('utf8')) as T);
}

export function putJson(store: KeyValueStore, namespace: string, key: string, value: unknown): Promise<void> {
  return store.put(namespace, key, Buffer.from(JSON.stringify(value), 'utf8'));
}
