/**
 * The `conversationClocks` table: each conversation's last serverTs. Stamps come from the clock of the
 * Lambda that accepts a message, and two Lambdas' clocks may disagree; the clock item makes a
 * conversation's stamps strictly increasing anyway, so every device queue, sorted by serverTs, serves a
 * conversation in the order its messages were accepted. The item also keeps a token bucket per device
 * that sends in the conversation (a device → peer rate limit), spent by the write that stamps its message.
 */
import { GetCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { ifConditionHolds } from './conditional-write';
import { spendSteps, waitForTokens, type TokenBucketRule } from './token-bucket';
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

/** A token bucket on the clock item: its attribute (one per sending device), and what a message costs it. */
export interface ClockBucketCharge {
  readonly bucket: string;
  readonly cost: number;
  readonly rule: TokenBucketRule;
}

export type StampedSpend = { readonly allowed: true; readonly serverTs: number } | { readonly allowed: false; readonly retryAfterMs: number };

/**
 * The conversation's next stamp and a spend of the sending device's bucket on the same item, in one
 * conditional write when the clock is behind now and the bucket has the tokens (the common case: a person
 * sends far slower than both). Otherwise the bucket is spent alone and then the clock ticks as
 * {@link nextServerTs} does; a bucket without the tokens refuses, with the wait, and the clock does not tick.
 *
 * @example
 * const stamped = await nextServerTsSpending(deps, conversationId, { bucket: 'sendTo:<userId>.1', cost: 1, rule: { burst: 60, refillMs: 1000 } });
 */
export async function nextServerTsSpending(deps: Deps, conversationId: string, charge: ClockBucketCharge): Promise<StampedSpend> {
  const now = deps.now();
  const update = (input: Pick<UpdateCommandInput, 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeValues'>) =>
    ifConditionHolds(
      deps.clients.db.send(
        new UpdateCommand({ TableName: tableName(deps, 'conversationClocks'), Key: { conversationId }, ExpressionAttributeNames: { '#bucket': charge.bucket }, ...input }),
      ),
    );
  const steps = spendSteps('#bucket', charge.cost, charge.rule, now);
  for (const step of steps) {
    const written = await update({
      UpdateExpression: `SET lastServerTs = :now, ${step.update}`,
      ConditionExpression: `(attribute_not_exists(lastServerTs) OR lastServerTs < :now) AND ${step.condition}`,
      ExpressionAttributeValues: { ':now': now, ...step.values },
    });
    if (written) return { allowed: true, serverTs: now };
  }
  // The bucket has not the tokens, or the clock is at or past this Lambda's now: one at a time.
  for (const step of steps) {
    const spent = await update({ UpdateExpression: `SET ${step.update}`, ConditionExpression: step.condition, ExpressionAttributeValues: step.values });
    if (spent) return { allowed: true, serverTs: await nextServerTs(deps, conversationId) };
  }
  const { Item } = await deps.clients.db.send(
    new GetCommand({
      TableName: tableName(deps, 'conversationClocks'),
      Key: { conversationId },
      ProjectionExpression: '#bucket',
      ExpressionAttributeNames: { '#bucket': charge.bucket },
      ConsistentRead: true,
    }),
  );
  return { allowed: false, retryAfterMs: waitForTokens(Item?.[charge.bucket] as number | undefined, charge.cost, charge.rule, now) };
}
