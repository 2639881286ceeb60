/**
 * Sender Keys (Signal's group encryption): this device's own key per group, which member devices hold it,
 * and the senders' keys this device received. A group message is encrypted once with the sender's key;
 * each member device gets the key beforehand in a 1:1 message. The own key is rotated (a new
 * distributionId, so a new key) when a device that holds it is no longer a member device: someone left,
 * was removed, or lost a device. Like sessions, each sender's key is used one operation at a time.
 */
import { randomUUID } from 'node:crypto';
import * as signal from '@signalapp/libsignal-client';
import { KeyedQueue } from './keyed-queue';
import { DecryptFailure, type DeviceAddress } from './session-manager';
import { getJson, namespaces as ns, putJson, type KeyValueStore } from './store/key-value-store';

/** This device's current key for a group: its distribution and the member devices that hold it (`userId.deviceId`). */
export interface OwnDistribution {
  readonly distributionId: string;
  readonly holders: readonly string[];
}

/** A group message came before its sender's key (the 1:1 message that carries it has not arrived yet). */
export class MissingSenderKey extends Error {
  constructor(
    readonly from: DeviceAddress,
    readonly distributionId: string,
  ) {
    super(`no sender key from ${deviceKey(from)} for distribution ${distributionId} (yet)`);
    this.name = 'MissingSenderKey';
  }
}

export const deviceKey = ({ userId, deviceId }: DeviceAddress) => `${userId}.${deviceId}`;
const addressOf = ({ userId, deviceId }: DeviceAddress) => signal.ProtocolAddress.new(userId, deviceId);
const bytes = (value: Uint8Array) => Uint8Array.from(value) as Uint8Array<ArrayBuffer>;

export class SenderKeys {
  private readonly queue = new KeyedQueue();

  constructor(
    private readonly store: KeyValueStore,
    private readonly keys: signal.SenderKeyStore,
    private readonly self: DeviceAddress,
  ) {}

  /**
   * This device's key for the group, rotated first if a holder is not among `memberDevices` (the group's
   * devices now, this one excepted): a removed member or a removed device must not read what follows.
   */
  async current(groupId: string, memberDevices: readonly DeviceAddress[]): Promise<OwnDistribution> {
    const members = new Set(memberDevices.map(deviceKey));
    const known = await getJson<OwnDistribution>(this.store, ns.senderKeyDistributions, groupId);
    if (known && known.holders.every((holder) => members.has(holder))) return known;
    const fresh: OwnDistribution = { distributionId: randomUUID(), holders: [] };
    // Creating the distribution message makes the key (a new chain) in the store.
    await this.distributionMessage(fresh.distributionId);
    await putJson(this.store, ns.senderKeyDistributions, groupId, fresh);
    return fresh;
  }

  /** Forgets the own key of a group: the next send makes a new one and gives it to every member device. */
  rotate(groupId: string): Promise<void> {
    return this.store.delete(ns.senderKeyDistributions, groupId);
  }

  /** Records that these devices got the key of `distributionId`, unless the key was rotated meanwhile. */
  async addHolders(groupId: string, distributionId: string, devices: readonly DeviceAddress[]): Promise<void> {
    const known = await getJson<OwnDistribution>(this.store, ns.senderKeyDistributions, groupId);
    if (known?.distributionId !== distributionId) return;
    const holders = [...new Set([...known.holders, ...devices.map(deviceKey)])];
    await putJson(this.store, ns.senderKeyDistributions, groupId, { distributionId, holders });
  }

  /** The serialized SenderKeyDistributionMessage of this device's key. */
  distributionMessage(distributionId: string): Promise<Uint8Array> {
    return this.queue.run(deviceKey(this.self), async () => (await signal.SenderKeyDistributionMessage.create(addressOf(this.self), distributionId, this.keys)).serialize());
  }

  /** Encrypts a group message once, for every member device: a serialized SenderKeyMessage. */
  encrypt(distributionId: string, plaintext: Uint8Array): Promise<Uint8Array> {
    return this.queue.run(deviceKey(this.self), async () => (await signal.groupEncrypt(addressOf(this.self), distributionId, this.keys, bytes(plaintext))).serialize());
  }

  /** Keeps a sender's key; throws when the message is not a distribution message of `distributionId`. */
  process(from: DeviceAddress, distributionId: string, skdm: Uint8Array): Promise<void> {
    return this.queue.run(deviceKey(from), async () => {
      const message = signal.SenderKeyDistributionMessage.deserialize(bytes(skdm));
      if (message.distributionId() !== distributionId) throw new Error('the sender key belongs to another distribution than it says');
      await signal.processSenderKeyDistributionMessage(addressOf(from), message, this.keys);
    });
  }

  /** Decrypts a group message; throws {@link MissingSenderKey} when the sender's key has not come yet, else {@link DecryptFailure}. */
  decrypt(from: DeviceAddress, ciphertext: Uint8Array): Promise<Uint8Array> {
    return this.queue.run(deviceKey(from), async () => {
      let distributionId: string;
      try {
        distributionId = signal.SenderKeyMessage.deserialize(bytes(ciphertext)).distributionId();
      } catch (error) {
        throw new DecryptFailure('invalid', error);
      }
      if (!(await this.keys.getSenderKey(addressOf(from), distributionId))) throw new MissingSenderKey(from, distributionId);
      try {
        return await signal.groupDecrypt(addressOf(from), this.keys, bytes(ciphertext));
      } catch (error) {
        throw new DecryptFailure((error as { code?: unknown }).code === signal.ErrorCode.DuplicatedMessage ? 'replayed' : 'invalid', error);
      }
    });
  }
}
