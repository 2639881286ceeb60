/**
 * Users who exist but are offline, written straight into the devices table: a registration per member
 * would make a 1,024-member group take minutes to set up. They are what a mostly offline group looks like
 * to the fanout. They all share one secret, so a test or the bench can bring any of their devices back
 * online (`credentialsOf`) and see what it finds at SYNC; they have no keys of their own.
 */
import { randomUUID } from 'node:crypto';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { ParleyLocal } from '../../local/runtime';
import { hashSecret } from '../../lambdas/accounts/device-secrets';
import type { DeviceCredentials } from '../../lambdas/protocol/credentials';

export interface SimulatedUser {
  readonly userId: string;
  readonly devices: number;
}

const SIMULATED_SECRET = 'simulated-device-secret-0123456789abcdef';
const { secretSalt, secretHash } = hashSecret(SIMULATED_SECRET, 'c2FsdA');

/** The credentials of a simulated user's device. */
export const credentialsOf = (user: SimulatedUser, deviceId = 1): DeviceCredentials => ({ userId: user.userId, deviceId, secret: SIMULATED_SECRET });

/** `count` offline users, every fifth with a second device; answers them. */
export async function addSimulatedUsers(parley: ParleyLocal, count: number): Promise<SimulatedUser[]> {
  const users = Array.from({ length: count }, (_, i) => ({ userId: randomUUID(), devices: i % 5 === 0 ? 2 : 1 }));
  const rows = users.flatMap(({ userId, devices }) =>
    Array.from({ length: devices }, (_, d) => ({
      userId,
      deviceId: d + 1,
      name: 'Simulated',
      primary: d === 0,
      secretSalt,
      secretHash,
      createdAt: Date.now(),
      // Addressable, as if each had uploaded keys: messages go to it.
      registrationId: 1,
    })),
  );
  for (let i = 0; i < rows.length; i += 25) {
    const batch = rows.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    await parley.clients.db.send(new BatchWriteCommand({ RequestItems: { [parley.resources.tables.devices]: batch } }));
  }
  return users;
}
