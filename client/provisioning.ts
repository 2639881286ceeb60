/**
 * Provisioning a newly linked device with what the account's devices share and the server must never
 * see: the chat-list keys (and, later, contacts and settings).
 *
 * The link code a device shows (its QR code) is the server's link token, a dot, and a 32-byte secret the
 * showing device made and keeps; the new device sends only the token to the server. Once linked and its
 * keys published, the new device sends its account a `provisioningRequest` holding a proof that it knows
 * the secret, bound to its device id and identity key. The device that issued that secret answers with
 * `provisioning`: the account's keys sealed under a key derived from the secret, for that device alone.
 * Both travel as ordinary Signal messages to one's own account (a SEND to oneself reaches every other
 * device of the account); the others cannot open the sealed part, and neither can the server, which saw
 * the token but never the secret: a device the server added on its own gets nothing.
 *
 * Store first: the new device keeps its secret until provisioned and sends its request at every connect
 * until the server took it; the issuer marks a secret answered-to before acknowledging the request and
 * sends pending answers at every connect, so a crash loses neither.
 */
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { open, seal } from './aead';
import { isValidChatListKey, type ChatListKey, type ChatListKeys } from './chat-list-keys';
import type { MessageContent } from './content';
import type { Emitter, ParleyEvents } from './events';
import type { DeviceAddress } from './session-manager';
import { getJson, namespaces as ns, putJson, type KeyValueStore } from './store/key-value-store';

const SECRET_BYTES = 32;
/** What separates the server's token from the secret in a link code: base64url has no dot. */
const LINK_CODE_SEPARATOR = '.';
/** An issued secret is kept as long as a request can wait in this device's queue (30 days), and a day more. */
const ISSUED_SECRET_KEEP_MS = 31 * 24 * 3600 * 1000;
const PENDING_KEY = 'provisioning';

export interface ProvisioningDeps {
  readonly self: DeviceAddress;
  readonly store: KeyValueStore;
  readonly chatListKeys: ChatListKeys;
  /** This device's identity public key, serialized. */
  readonly ownIdentityKey: Uint8Array;
  /** The identity public key a device of this account showed in its session with this device. */
  readonly identityKeyOf: (device: DeviceAddress) => Promise<Uint8Array | undefined>;
  /** Sends a content to every other device of this account; resolves at the server's ACK. */
  readonly sendToOwnDevices: (content: MessageContent) => Promise<void>;
  readonly events: Emitter<ParleyEvents>;
  readonly now: () => number;
}

/** A secret this device put in a link code it showed. */
interface IssuedSecret {
  secret: string;
  keepUntil: number;
  /** The linked device that proved it holds the secret and waits for its provisioning. */
  answerTo?: number;
}

/** On a newly linked device: the secret of the link code it used, until it is provisioned. */
interface PendingProvisioning {
  secret: string;
  requested: boolean;
}

/** The sealed part of `provisioning`. Readers ignore fields they do not know. */
interface ProvisioningPayload {
  v: 1;
  chatListKeys: { keyId: number; key: string }[];
  /** Reserved: this SDK keeps no contacts yet. */
  contacts: unknown[];
  /** Reserved: this SDK keeps no settings yet. */
  settings: Record<string, unknown>;
}

/** Splits a link code into the server's token and the issuing device's secret (absent from a bare server token). */
export function parseLinkCode(code: string): { linkToken: string; secret?: Uint8Array } {
  const [linkToken, secret] = code.split(LINK_CODE_SEPARATOR);
  return { linkToken: linkToken!, ...(secret ? { secret: new Uint8Array(Buffer.from(secret, 'base64url')) } : {}) };
}

/** On the newly linked device, before it starts: keeps the link code's secret until the provisioning it opens comes. */
export function awaitProvisioning(store: KeyValueStore, secret: Uint8Array): Promise<void> {
  const pending: PendingProvisioning = { secret: Buffer.from(secret).toString('base64url'), requested: false };
  return putJson(store, ns.account, PENDING_KEY, pending);
}

const derivedKey = (secret: Uint8Array, purpose: string) => new Uint8Array(hkdfSync('sha256', secret, new Uint8Array(0), purpose, 32));

function proofOf(secret: Uint8Array, device: DeviceAddress, identityKey: Uint8Array): Uint8Array {
  return createHmac('sha256', derivedKey(secret, 'parley-link-proof-v1'))
    .update(`${device.userId}:${device.deviceId}:`)
    .update(identityKey)
    .digest();
}

const sealingKey = (secret: Uint8Array) => derivedKey(secret, 'parley-provisioning-v1');
const sealedFor = (device: DeviceAddress) => `parley-provisioning-v1:${device.userId}:${device.deviceId}`;
const bytesOf = (base64url: string) => new Uint8Array(Buffer.from(base64url, 'base64url'));

export class Provisioning {
  private answering: Promise<void> = Promise.resolve();

  constructor(private readonly deps: ProvisioningDeps) {}

  /** The link code to show for a token the server issued; the secret in it is kept to check and answer the request. */
  async linkCode(linkToken: string): Promise<string> {
    const secret = randomBytes(SECRET_BYTES);
    const issued: IssuedSecret = { secret: secret.toString('base64url'), keepUntil: this.deps.now() + ISSUED_SECRET_KEEP_MS };
    await putJson(this.deps.store, ns.linkSecrets, createHash('sha256').update(secret).digest('base64url'), issued);
    return `${linkToken}${LINK_CODE_SEPARATOR}${issued.secret}`;
  }

  /** At every connect: sends this device's request if the server has not taken it yet, and answers still owed. */
  async resume(): Promise<void> {
    await Promise.all([this.request(), this.answerPending()]);
  }

  /** A provisioning request or provisioning from another device of this account (the inbox checked the account). */
  async received(from: DeviceAddress, content: MessageContent): Promise<void> {
    if (content.provisioningRequest) await this.requested(from, content.provisioningRequest.proof);
    if (content.provisioning?.deviceId === this.deps.self.deviceId) await this.provisioned(from, content.provisioning.sealed);
  }

  private async request(): Promise<void> {
    const { store, self, ownIdentityKey } = this.deps;
    const pending = await getJson<PendingProvisioning>(store, ns.account, PENDING_KEY);
    if (!pending || pending.requested) return;
    await this.deps.sendToOwnDevices({ sentAt: this.deps.now(), provisioningRequest: { proof: proofOf(bytesOf(pending.secret), self, ownIdentityKey) } });
    // Unless provisioning came meanwhile (then the pending record is gone).
    if (await getJson(store, ns.account, PENDING_KEY)) await putJson(store, ns.account, PENDING_KEY, { ...pending, requested: true });
  }

  /** Finds the secret this device issued that the proof was made with; the device gets its answer in the background. */
  private async requested(from: DeviceAddress, proof: Uint8Array): Promise<void> {
    const { store, now } = this.deps;
    const identityKey = await this.deps.identityKeyOf(from);
    if (!identityKey) return;
    for (const id of await store.keys(ns.linkSecrets)) {
      const issued = await getJson<IssuedSecret>(store, ns.linkSecrets, id);
      if (!issued || issued.keepUntil < now()) {
        await store.delete(ns.linkSecrets, id);
        continue;
      }
      const expected = proofOf(bytesOf(issued.secret), from, identityKey);
      if (proof.length !== expected.length || !timingSafeEqual(proof, expected)) continue;
      if (issued.answerTo === undefined) await putJson(store, ns.linkSecrets, id, { ...issued, answerTo: from.deviceId });
      void this.answerPending();
      return;
    }
    // Not a secret of this device's: the device that showed the link code answers.
  }

  /** Sends each provisioning this device owes, one at a time; a failure is reported and retried at the next connect. */
  private answerPending(): Promise<void> {
    this.answering = this.answering.then(async () => {
      const { store, self } = this.deps;
      try {
        const keys = await this.deps.chatListKeys.all();
        // A device that holds no keys yet has nothing to give: it answers at a connect after it is provisioned itself.
        if (!keys.length) return;
        for (const id of await store.keys(ns.linkSecrets)) {
          const issued = await getJson<IssuedSecret>(store, ns.linkSecrets, id);
          if (issued && issued.answerTo === undefined && issued.keepUntil < this.deps.now()) await store.delete(ns.linkSecrets, id);
          if (issued?.answerTo === undefined) continue;
          const device = { userId: self.userId, deviceId: issued.answerTo };
          const sealed = seal(sealingKey(bytesOf(issued.secret)), payloadOf(keys), sealedFor(device));
          await this.deps.sendToOwnDevices({ sentAt: this.deps.now(), provisioning: { deviceId: device.deviceId, sealed } });
          await store.delete(ns.linkSecrets, id);
        }
      } catch (error) {
        await this.deps.events.emit('error', error instanceof Error ? error : new Error(String(error)));
      }
    });
    return this.answering;
  }

  private async provisioned(from: DeviceAddress, sealed: Uint8Array): Promise<void> {
    const { store, self, chatListKeys } = this.deps;
    const pending = await getJson<PendingProvisioning>(store, ns.account, PENDING_KEY);
    // Provisioned before: a second answer (after a retried request) changes nothing.
    if (!pending) return;
    const plaintext = open(sealingKey(bytesOf(pending.secret)), sealed, sealedFor(self));
    if (!plaintext) throw new Error('the provisioning is not sealed with the secret of this device’s link code');
    const keys = readPayload(plaintext);
    await chatListKeys.add(keys);
    await store.delete(ns.account, PENDING_KEY);
    await this.deps.events.emit('provisioned', { by: from, chatListKeyIds: keys.map((key) => key.keyId) });
  }
}

function payloadOf(keys: readonly ChatListKey[]): Uint8Array {
  const payload: ProvisioningPayload = {
    v: 1,
    chatListKeys: keys.map(({ keyId, key }) => ({ keyId, key: Buffer.from(key).toString('base64') })),
    contacts: [],
    settings: {},
  };
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

function readPayload(plaintext: Uint8Array): ChatListKey[] {
  const payload = JSON.parse(Buffer.from(plaintext).toString('utf8')) as Partial<ProvisioningPayload>;
  if (payload.v !== 1 || !Array.isArray(payload.chatListKeys)) throw new Error('not a version 1 provisioning');
  const keys = payload.chatListKeys.map(({ keyId, key }) => ({ keyId, key: new Uint8Array(Buffer.from(String(key), 'base64')) }));
  if (!keys.every(isValidChatListKey)) throw new Error('the provisioning holds a malformed chat-list key');
  return keys;
}
