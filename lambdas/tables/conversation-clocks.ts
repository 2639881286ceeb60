/**
 * The `conversationClocks` table: each conversation's last serverTs. Stamps come from the clock of the
 * Lambda that accepts a message, and two Lambdas' clocks may disagree; the clock item makes a
 * conversation's stamps strictly increasing anyway, so every device queue, sorted by serverTs, serves a
 * conversation in the order its messages were accepted.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ifConditionHolds } from './conditional-write';
import { tableName, type Deps } from '../runtime/deps';

/**
 * The next stamp of the conversation: now, if now is past its last stamp (one conditional write, the
 * common case), else one millisecond past the last stamp (a second, atomic write). No two stamps of a
 * conversation are equal, even from concurrent callers.
 *
 * @example
 * const serverTs = await nextServerTs(deps, 'direct:…:…'); // > every earlier stamp of that conversation
 */
export async function nextServerTs(deps: Deps, conversationId: string): Promise<number> {
  const now = deps.now();
  const TableName = tableName(deps, 'conversationClocks');
  const advanced = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName,
        Key: { conversationId },
        UpdateExpression: 'SET lastServerTs = :now',
        ConditionExpression: 'attribute_not_exists(lastServerTs) OR lastServerTs < :now',
        ExpressionAttributeValues: { ':now': now },
      }),
    ),
  );
  if (advanced) return now;
  // This Lambda's clock is behind the conversation's (or another SEND took this millisecond).
  const { Attributes } = await deps.clients.db.send(
    new UpdateCommand({
      TableName,
      Key: { conversationId },
      UpdateExpression: 'ADD lastServerTs :one',
      ExpressionAttributeValues: { ':one': 1 },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return Attributes!.lastServerTs as number;
}

/** The conversation's last stamp, read strongly consistent; undefined before its first message. */
export async function lastServerTs(deps: Deps, conversationId: string): Promise<number | undefined> {
  const { Item } = await deps.clients.db.send(
    new GetCommand({
      TableName: tableName(deps, 'conversationClocks'),
      Key: { conversationId },
      ProjectionExpression: 'lastServerTs',
      ConsistentRead: true,
    }),
  );
  return Item?.lastServerTs as number | undefined;
}
