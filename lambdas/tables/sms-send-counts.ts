/**
 * The `smsSendCounts` table: fixed-window counters of SMS codes sent, one item per counter and window.
 * A count is taken with one conditional ADD, so concurrent requests can never take more than the limit.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableName, type Deps } from '../runtime/deps';
import { ifConditionHolds } from './conditional-write';

export interface SmsCountWindow {
  /** What is counted and in which window, e.g. `sourceIp#203.0.113.7#2026-11-29T12:00:00.000Z`. */
  readonly counter: string;
  /** The most that may be counted in the window. */
  readonly limit: number;
  /** Epoch milliseconds when the window ends. */
  readonly endsAt: number;
}

/** Counts one more SMS in the window unless it already holds `limit`; false if it does. */
export async function takeSmsCount(deps: Deps, window: SmsCountWindow): Promise<boolean> {
  const written = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'smsSendCounts'),
        Key: { counter: window.counter },
        UpdateExpression: 'SET expiresAt = :expiresAt ADD codesSent :one',
        ConditionExpression: 'attribute_not_exists(codesSent) OR codesSent < :limit',
        // Kept an hour past the window: DynamoDB's TTL deletes late, and nothing reads an ended window.
        ExpressionAttributeValues: { ':one': 1, ':limit': window.limit, ':expiresAt': Math.ceil(window.endsAt / 1000) + 3600 },
      }),
    ),
  );
  return written !== undefined;
}

/** Takes back one count of a window (of a request that was refused later and sent nothing). */
export async function giveBackSmsCount(deps: Deps, counter: string): Promise<void> {
  await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'smsSendCounts'),
        Key: { counter },
        UpdateExpression: 'ADD codesSent :minusOne',
        ConditionExpression: 'codesSent > :zero',
        ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
      }),
    ),
  );
}
