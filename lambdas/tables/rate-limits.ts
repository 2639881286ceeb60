/**
 * The `rateLimits` table: the token buckets of every rate limit (key fetches, SENDs), one item per bucket, kept as the "theoretical arrival time" of GCRA (`tat`,
 * epoch milliseconds): a bucket admits `cost` tokens while `max(tat, now) + cost × refillMs` stays within
 * `burst × refillMs` of now. Each spend is one or two conditional updates, so concurrent fetches can
 * never spend the same tokens twice.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableName, type Deps } from '../runtime/deps';
import { ifConditionHolds } from './conditional-write';

export interface TokenBucketRule {
  /** Tokens a full bucket holds. */
  readonly burst: number;
  /** Milliseconds in which one token comes back. */
  readonly refillMs: number;
}

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
  if (cost > rule.burst) throw new Error(`A spend of ${cost} tokens can never fit a bucket of ${rule.burst}`);
  const now = deps.now();
  const costMs = cost * rule.refillMs;
  const windowMs = rule.burst * rule.refillMs;
  // A full bucket is dropped by TTL (expiry is lazy, but a bucket past it is full anyway).
  const expiresAt = Math.ceil((now + windowMs) / 1000);
  // An idle (full) bucket starts again from now: tat + cost alone would bank the idle time.
  const fromFull = await updateIf(deps, bucket, 'SET tat = :next, expiresAt = :exp', 'attribute_not_exists(tat) OR tat <= :now', {
    ':next': now + costMs,
    ':exp': expiresAt,
    ':now': now,
  });
  if (fromFull) return { allowed: true };
  const spent = await updateIf(deps, bucket, 'SET tat = tat + :cost, expiresAt = :exp', 'tat <= :latest', {
    ':cost': costMs,
    ':exp': expiresAt,
    ':latest': now + windowMs - costMs,
  });
  if (spent) return { allowed: true };
  const { Item } = await deps.clients.db.send(
    new GetCommand({ TableName: tableName(deps, 'rateLimits'), Key: { bucket }, ConsistentRead: true }),
  );
  const tat = (Item?.tat as number | undefined) ?? now;
  return { allowed: false, retryAfterMs: Math.max(0, tat + costMs - windowMs - now) };
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
