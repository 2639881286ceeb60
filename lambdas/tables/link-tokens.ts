/** The `linkTokens` table: single-use tokens with which a signed-in device links a new one. */
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { tableName, type Deps } from '../runtime/deps';

export interface LinkTokenRecord {
  /** SHA-256 of the token: the token itself is never stored. */
  readonly tokenHash: string;
  readonly userId: string;
  /** The device that issued it. */
  readonly issuedBy: number;
  /** Epoch seconds (the table's TTL attribute). */
  readonly expiresAt: number;
}

export async function putLinkToken(deps: Deps, token: LinkTokenRecord): Promise<void> {
  await deps.clients.db.send(
    new PutCommand({
      TableName: tableName(deps, 'linkTokens'),
      Item: token,
      ConditionExpression: 'attribute_not_exists(tokenHash)',
    }),
  );
}

/**
 * Takes the token out of the table in one atomic delete, so two devices racing with one token cannot
 * both get it; answers undefined when there was none or it had expired (DynamoDB deletes lazily).
 */
export async function takeLinkToken(deps: Deps, tokenHash: string): Promise<LinkTokenRecord | undefined> {
  const { Attributes } = await deps.clients.db.send(
    new DeleteCommand({ TableName: tableName(deps, 'linkTokens'), Key: { tokenHash }, ReturnValues: 'ALL_OLD' }),
  );
  const token = Attributes as LinkTokenRecord | undefined;
  return token && token.expiresAt * 1000 > deps.now() ? token : undefined;
}
