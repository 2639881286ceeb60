/**
 * Signal sessions with other devices: start one from a prekey bundle, encrypt to a device, decrypt from
 * one. libsignal does no locking, so every operation on one remote device's session runs in that
 * device's queue, one at a time; different devices proceed in parallel.
 */
import * as signal from '@signalapp/libsignal-client';
import type { Envelope } from '../lambdas/protocol/frames';
import { KeyedQueue } from './keyed-queue';
import { toPreKeyBundle, type DeviceBundle } from './key-directory';
import { namespaces as ns, type KeyValueStore } from './store/key-value-store';
import type { ProtocolStores } from './store/protocol-stores';

export interface DeviceAddress {
  readonly userId: string;
  readonly deviceId: number;
}

/** Why a ciphertext could not be decrypted. */
export type DecryptFailureReason =
  /** The message key was already used: a replay, or a redelivery after the message was handled. */
  | 'replayed'
  /** Not a valid message for any session with the sender: tampered, truncated or garbage. */
  | 'invalid'
  /** A `message` envelope from a device this one has no session with. */
  | 'no-session'
  /** The sender's identity key is not trusted. */
  | 'untrusted-identity';

export class DecryptFailure extends Error {
  constructor(
    readonly reason: DecryptFailureReason,
    readonly cause: unknown,
  ) {
    super(`cannot decrypt (${reason}): ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'DecryptFailure';
  }
}

const addressOf = ({ userId, deviceId }: DeviceAddress) => signal.ProtocolAddress.new(userId, deviceId);
const keyOf = ({ userId, deviceId }: DeviceAddress) => `${userId}.${deviceId}`;

export class SessionManager {
  private readonly queue = new KeyedQueue();
  private readonly localAddress: signal.ProtocolAddress;

  constructor(
    private readonly store: KeyValueStore,
    private readonly stores: ProtocolStores,
    self: DeviceAddress,
  ) {
    this.localAddress = addressOf(self);
  }

  async hasSession(device: DeviceAddress): Promise<boolean> {
    const record = await this.stores.sessions.getSession(addressOf(device));
    return record?.hasCurrentState() ?? false;
  }

  /** The identity public key (serialized) a device showed when its session with this device began. */
  async identityKeyOf(device: DeviceAddress): Promise<Uint8Array | undefined> {
    return (await this.stores.identities.getIdentity(addressOf(device)))?.serialize();
  }

  /** Starts a session with `userId`'s device from its bundle (PQXDH); the next message to it is a PreKeySignalMessage. */
  startSession(userId: string, bundle: DeviceBundle): Promise<void> {
    const device = { userId, deviceId: bundle.deviceId };
    return this.queue.run(keyOf(device), () =>
      signal.processPreKeyBundle(toPreKeyBundle(bundle), addressOf(device), this.localAddress, this.stores.sessions, this.stores.identities),
    );
  }

  /** Forgets the session with a device the account no longer has. */
  dropSession(device: DeviceAddress): Promise<void> {
    return this.queue.run(keyOf(device), () => this.store.delete(ns.sessions, keyOf(device)));
  }

  /**
   * Encrypts to a device it has a session with. The envelope names the registration id the session was
   * made with, so the server can tell a session with an earlier holder of the device id (STALE_DEVICES).
   */
  async encrypt(device: DeviceAddress, plaintext: Uint8Array): Promise<Envelope> {
    const address = addressOf(device);
    const { message, registrationId } = await this.queue.run(keyOf(device), async () => {
      const encrypted = await signal.signalEncrypt(Uint8Array.from(plaintext) as Uint8Array<ArrayBuffer>, address, this.localAddress, this.stores.sessions, this.stores.identities);
      const session = await this.stores.sessions.getSession(address);
      return { message: encrypted, registrationId: session!.remoteRegistrationId() };
    });
    return {
      userId: device.userId,
      deviceId: device.deviceId,
      registrationId,
      type: message.type() === signal.CiphertextMessageType.PreKey ? 'prekey' : 'message',
      ciphertext: Buffer.from(message.serialize()).toString('base64'),
    };
  }

  /** Decrypts one envelope from `from`; throws {@link DecryptFailure}, and a failure leaves the session as it was. */
  decrypt(from: DeviceAddress, envelope: Pick<Envelope, 'type' | 'ciphertext'>): Promise<Uint8Array> {
    const bytes = Uint8Array.from(Buffer.from(envelope.ciphertext, 'base64')) as Uint8Array<ArrayBuffer>;
    const address = addressOf(from);
    const { sessions, identities, prekeys, signedPrekeys, kyberPrekeys } = this.stores;
    return this.queue.run(keyOf(from), async () => {
      try {
        if (envelope.type === 'prekey') {
          const message = signal.PreKeySignalMessage.deserialize(bytes);
          return await signal.signalDecryptPreKey(message, address, this.localAddress, sessions, identities, prekeys, signedPrekeys, kyberPrekeys);
        }
        const message = signal.SignalMessage.deserialize(bytes);
        if (!(await sessions.getSession(address))) throw new DecryptFailure('no-session', new Error(`no session with ${keyOf(from)}`));
        return await signal.signalDecrypt(message, address, this.localAddress, sessions, identities);
      } catch (error) {
        throw error instanceof DecryptFailure ? error : new DecryptFailure(reasonOf(error), error);
      }
    });
  }
}

/**
 * By the error's libsignal code, not `instanceof`: the native addon makes its errors with the class of
 * the first copy of libsignal's JS loaded in the process, and a second copy (a bundler's, a test runner's
 * fresh module registry) has a class of its own.
 */
function reasonOf(error: unknown): DecryptFailureReason {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === signal.ErrorCode.DuplicatedMessage) return 'replayed';
  if (code === signal.ErrorCode.UntrustedIdentity) return 'untrusted-identity';
  if (code === signal.ErrorCode.InvalidSession) return 'no-session';
  return 'invalid';
}
