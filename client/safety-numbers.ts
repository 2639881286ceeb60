/**
 * Safety numbers: what two people compare, aloud or by scanning a QR code, to know that no one sits between
 * their devices. Each Parley device has its own identity key (as in WhatsApp), so a safety number belongs to
 * a pair of devices: this one and one of the contact's. It is libsignal's {@link signal.Fingerprint} of the
 * two identity keys, each bound to its device's address, so both devices compute the same 60 digits.
 *
 * Marking a contact verified remembers the identity key each of its devices has now; when one of those keys
 * changes, the verification of that device is dropped and the `identityChanged` event says it was verified.
 */
import * as signal from '@signalapp/libsignal-client';
import type { DeviceAddress } from './session-manager';
import { namespaces as ns, type KeyValueStore } from './store/key-value-store';

/** Signal's parameters for version 2 safety numbers: 5,200 SHA-512 iterations, 30 digits per side. */
const FINGERPRINT_ITERATIONS = 5200;
const FINGERPRINT_VERSION = 2;

export interface SafetyNumber {
  /** The contact's device this number is shared with. */
  readonly device: DeviceAddress;
  /** 60 digits, in twelve groups of five as apps show them: the same on both devices. */
  readonly digits: string;
  /** The scannable form (protobuf bytes, to put in a QR code); compare a scanned one with {@link SafetyNumbers.matchesScanned}. */
  readonly scannable: Uint8Array;
  /** Marked verified on this device, and the device's identity key has not changed since. */
  readonly verified: boolean;
}

export interface SafetyNumberDeps {
  readonly store: KeyValueStore;
  readonly self: DeviceAddress;
  readonly ownIdentityKey: signal.PublicKey;
  /** The contact's devices, each with a session (started from their bundles when there is none yet). */
  readonly devicesOf: (userId: string) => Promise<DeviceAddress[]>;
  /** The identity key (serialized) a device showed in its session with this one. */
  readonly identityKeyOf: (device: DeviceAddress) => Promise<Uint8Array | undefined>;
}

const addressKey = ({ userId, deviceId }: DeviceAddress) => `${userId}.${deviceId}`;
const identifier = (device: DeviceAddress) => new Uint8Array(Buffer.from(addressKey(device), 'utf8'));
const publicKey = (bytes: Uint8Array) => signal.PublicKey.deserialize(Uint8Array.from(bytes) as Uint8Array<ArrayBuffer>);

export class SafetyNumbers {
  constructor(private readonly deps: SafetyNumberDeps) {}

  /** The safety number with each of `userId`'s devices (this account's other devices when it is this user). */
  async of(userId: string): Promise<SafetyNumber[]> {
    const numbers: SafetyNumber[] = [];
    for (const device of await this.deps.devicesOf(userId)) {
      const key = await this.deps.identityKeyOf(device);
      if (!key) continue;
      const fingerprint = this.fingerprint(device, key);
      numbers.push({
        device,
        digits: fingerprint.displayableFingerprint().toString().replace(/(\d{5})(?=\d)/g, '$1 '),
        scannable: fingerprint.scannableFingerprint().toBuffer(),
        verified: await this.isVerified(device, key),
      });
    }
    return numbers;
  }

  /** Marks every device `userId` has now verified, with the identity keys they have now; answers how many. */
  async markVerified(userId: string): Promise<number> {
    const numbers = await this.of(userId);
    for (const { device } of numbers) await this.deps.store.put(ns.verifiedIdentities, addressKey(device), (await this.deps.identityKeyOf(device))!);
    return numbers.length;
  }

  /** True when `scanned` (the other device's QR code) matches the safety number with `device`. */
  async matchesScanned(device: DeviceAddress, scanned: Uint8Array): Promise<boolean> {
    const key = await this.deps.identityKeyOf(device);
    if (!key) return false;
    const ours = signal.ScannableFingerprint._fromBuffer(this.fingerprint(device, key).scannableFingerprint().toBuffer());
    try {
      return ours.compare(signal.ScannableFingerprint._fromBuffer(Uint8Array.from(scanned) as Uint8Array<ArrayBuffer>));
    } catch {
      return false; // not a safety number's QR code at all
    }
  }

  /**
   * A device's identity key changed: drops its verification. Answers whether it had been verified, so the
   * app can warn louder than for a contact never verified.
   */
  async identityChanged(device: DeviceAddress): Promise<boolean> {
    const verified = await this.deps.store.get(ns.verifiedIdentities, addressKey(device));
    if (!verified) return false;
    await this.deps.store.delete(ns.verifiedIdentities, addressKey(device));
    return true;
  }

  private async isVerified(device: DeviceAddress, key: Uint8Array): Promise<boolean> {
    const verified = await this.deps.store.get(ns.verifiedIdentities, addressKey(device));
    return verified !== undefined && Buffer.from(verified).equals(Buffer.from(key));
  }

  private fingerprint(device: DeviceAddress, key: Uint8Array): signal.Fingerprint {
    return signal.Fingerprint.new(FINGERPRINT_ITERATIONS, FINGERPRINT_VERSION, identifier(this.deps.self), this.deps.ownIdentityKey, identifier(device), publicKey(key));
  }
}
