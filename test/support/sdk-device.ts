/**
 * SDK parts of one device wired together in this process, without a server: its store, libsignal stores,
 * published prekeys, sessions and device lists, over an {@link InMemoryKeyDirectory}. For unit tests of
 * session setup, encryption and the mismatched-devices recovery.
 */
import { randomUUID } from 'node:crypto';
import { createLocalDevice, type LocalDevice } from '../../client/local-device';
import { Prekeys, type PrekeyPolicy } from '../../client/prekeys';
import { Recipients } from '../../client/recipients';
import { SenderKeys } from '../../client/sender-keys';
import { SessionManager, type DeviceAddress } from '../../client/session-manager';
import type { KeyValueStore } from '../../client/store/key-value-store';
import { MemoryStore } from '../../client/store/memory-store';
import { ProtocolStores } from '../../client/store/protocol-stores';
import type { InMemoryKeyDirectory } from './in-memory-key-directory';

export interface SdkDevice {
  readonly self: DeviceAddress;
  readonly store: KeyValueStore;
  readonly local: LocalDevice;
  readonly stores: ProtocolStores;
  readonly sessions: SessionManager;
  readonly recipients: Recipients;
  readonly prekeys: Prekeys;
  readonly senderKeys: SenderKeys;
  readonly identityChanges: DeviceAddress[];
}

export async function sdkDevice(
  directory: InMemoryKeyDirectory,
  self: DeviceAddress = { userId: randomUUID(), deviceId: 1 },
  options: { store?: KeyValueStore; policy?: PrekeyPolicy; now?: () => number } = {},
): Promise<SdkDevice> {
  const store = options.store ?? new MemoryStore();
  const local = await createLocalDevice(store, { ...self, secret: 'a'.repeat(43) });
  const identityChanges: DeviceAddress[] = [];
  const stores = new ProtocolStores(store, local.identity, (address) => identityChanges.push({ userId: address.name(), deviceId: address.deviceId() }));
  const keys = directory.forDevice(self.userId, self.deviceId);
  const prekeys = new Prekeys(store, stores, local, keys, options.now ?? Date.now, options.policy ?? { poolSize: 5 });
  await prekeys.publish();
  const sessions = new SessionManager(store, stores, self);
  const senderKeys = new SenderKeys(store, stores.senderKeys, self);
  return { self, store, local, stores, sessions, recipients: new Recipients(store, sessions, keys, self), prekeys, senderKeys, identityChanges };
}
