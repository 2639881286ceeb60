/**
 * The `rateLimits` table: the token buckets of every rate limit (key fetches, SENDs), one item per bucket,
 * kept as GCRA's theoretical arrival time (`tat`; the arithmetic is in `token-bucket.ts`). Each spend is
 * one or two conditional updates, so concurrent requests can never spend the same tokens twice.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableName, type Deps } from '../runtime/deps';
import { ifConditionHolds } from './conditional-write';
import { spendSteps, waitForTokens, type TokenBucketRule } from './token-bucket';

export type { TokenBucketRule } from './token-bucket';

export type Spend = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

/** What one request costs one bucket. Buckets of different limits share the table: their names say whose they are. */
export interface Charge {
  readonly bucket: string;
  readonly cost: number;
  readonly rule: TokenBucketRule;
}

/** Runs a conditional update; false when its condition did not hold. */
async function updateIf(deps: Deps, bucket: string, update: string, condition: string, values: Record<string, number>): Promise<boolean> {
  const written = await ifConditionHolds(
    deps.clients.db.send(
      new UpdateCommand({
        TableName: tableName(deps, 'rateLimits'),
        Key: { bucket },
        UpdateExpression: update,
        ConditionExpression: condition,
        ExpressionAttributeValues: values,
      }),
    ),
  );
  return written !== undefined;
}

/** Takes `cost` tokens (at most `burst`) from the bucket if it has them; otherwise takes none and says when it will. */
export async function spendTokens(deps: Deps, bucket: string, cost: number, rule: TokenBucketRule): Promise<Spend> {
  const now = deps.now();
  // A full bucket is dropped by TTL (expiry is lazy, but a bucket past it is full anyway).
  const expiresAt = Math.ceil((now + rule.burst * rule.refillMs) / 1000);
  for (const step of spendSteps('tat', cost, rule, now, 'expiresAt = :exp')) {
    if (await updateIf(deps, bucket, `SET ${step.update}`, step.condition, { ...step.values, ':exp': expiresAt })) return { allowed: true };
  }
  const { Item } = await deps.clients.db.send(
    new GetCommand({ TableName: tableName(deps, 'rateLimits'), Key: { bucket }, ConsistentRead: true }),
  );
  return { allowed: false, retryAfterMs: waitForTokens(Item?.tat as number | undefined, cost, rule, now) };
}

/** Gives back tokens spent by a request that was refused for another reason. */
export async function refundTokens(deps: Deps, bucket: string, cost: number, rule: TokenBucketRule): Promise<void> {
  await updateIf(deps, bucket, 'SET tat = tat - :cost', 'attribute_exists(tat)', { ':cost': cost * rule.refillMs });
}

/**
 * Spends every charge or none: the buckets are spent at once, and when any refuses, what the others
 * spent is given back (one more update each) and the longest wait is answered.
 */
export async function spendAllOrNone(deps: Deps, charges: readonly Charge[]): Promise<Spend> {
  const spends = await Promise.all(charges.map((charge) => spendTokens(deps, charge.bucket, charge.cost, charge.rule)));
  const waits = spends.flatMap((spend) => (spend.allowed ? [] : [spend.retryAfterMs]));
  if (waits.length === 0) return { allowed: true };
  await Promise.all(charges.filter((_, i) => spends[i]!.allowed).map((charge) => refundTokens(deps, charge.bucket, charge.cost, charge.rule)));
  return { allowed: false, retryAfterMs: Math.max(...waits) };
}
