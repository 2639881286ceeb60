/** The `contacts` table: the userIds each user keeps as contacts, in one item, written whole. */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { tableName, type Deps } from '../runtime/deps';

export async function getContacts(deps: Deps, userId: string): Promise<string[]> {
  const { Item } = await deps.clients.db.send(new GetCommand({ TableName: tableName(deps, 'contacts'), Key: { userId } }));
  return (Item?.contactIds as string[] | undefined) ?? [];
}

/** Replaces the user's contacts in one write: a list is stored whole or not at all. */
export async function putContacts(deps: Deps, userId: string, contactIds: readonly string[], now: number): Promise<void> {
  await deps.clients.db.send(
    new PutCommand({ TableName: tableName(deps, 'contacts'), Item: { userId, contactIds: [...contactIds], updatedAt: now } }),
  );
}
