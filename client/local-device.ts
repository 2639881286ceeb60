/**
 * This device as the store remembers it: its account credentials and its identity (the identity key pair
 * and registration id libsignal needs). Each device has its own identity key, as in WhatsApp.
 */
import { randomInt } from 'node:crypto';
import * as signal from '@signalapp/libsignal-client';
import type { DeviceCredentials } from '../lambdas/protocol/credentials';
import { getJson, namespaces as ns, putJson, type KeyValueStore } from './store/key-value-store';
import type { LocalIdentity } from './store/protocol-stores';

export interface LocalDevice {
  readonly credentials: DeviceCredentials;
  readonly identity: LocalIdentity;
}

/** libsignal's registration ids are 14 bits; the server refuses 0. */
const newRegistrationId = () => randomInt(1, 16381);

/** Makes this device's identity and keeps it with the credentials the server gave it. */
export async function createLocalDevice(store: KeyValueStore, credentials: DeviceCredentials): Promise<LocalDevice> {
  if (await store.get(ns.account, 'credentials')) throw new Error('this store already holds a device: use ParleyClient.open');
  const identity: LocalIdentity = { identityKeyPair: signal.IdentityKeyPair.generate(), registrationId: newRegistrationId() };
  await store.put(ns.account, 'identityKeyPair', identity.identityKeyPair.serialize());
  await putJson(store, ns.account, 'registrationId', identity.registrationId);
  // Credentials last: a store with credentials is a complete device.
  await putJson(store, ns.account, 'credentials', credentials);
  return { credentials, identity };
}

export async function loadLocalDevice(store: KeyValueStore): Promise<LocalDevice | undefined> {
  const credentials = await getJson<DeviceCredentials>(store, ns.account, 'credentials');
  if (!credentials) return undefined;
  const keyPair = await store.get(ns.account, 'identityKeyPair');
  const registrationId = await getJson<number>(store, ns.account, 'registrationId');
  if (!keyPair || registrationId === undefined) throw new Error('the store holds credentials but no identity key');
  return {
    credentials,
    identity: { identityKeyPair: signal.IdentityKeyPair.deserialize(Uint8Array.from(keyPair) as Uint8Array<ArrayBuffer>), registrationId },
  };
}
