/**
 * Users who exist but never connect, written straight into the devices table: a registration per member
 * would make a 1,024-member group take minutes to set up. They cannot sign in (their secret hash matches
 * no secret); they are what a mostly offline group looks like to the fanout.
 */
import { randomUUID } from 'node:crypto';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { ParleyLocal } from '../../local/runtime';

export interface SimulatedUser {
  readonly userId: string;
  readonly devices: number;
}

/** `count` offline users, every fifth with a second device; answers them. */
export async function addSimulatedUsers(parley: ParleyLocal, count: number): Promise<SimulatedUser[]> {
  const users = Array.from({ length: count }, (_, i) => ({ userId: randomUUID(), devices: i % 5 === 0 ? 2 : 1 }));
  const rows = users.flatMap(({ userId, devices }) =>
    Array.from({ length: devices }, (_, d) => ({
      userId,
      deviceId: d + 1,
      name: 'Simulated',
      primary: d === 0,
      secretSalt: 'c2FsdA',
      secretHash: 'aGFzaA',
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
