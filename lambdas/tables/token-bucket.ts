/**
 * The arithmetic of a token bucket kept as GCRA's "theoretical arrival time" (`tat`, epoch milliseconds)
 * in one attribute of an item, as DynamoDB update expressions: a bucket admits `cost` tokens while
 * `max(tat, now) + cost × refillMs` stays within `burst × refillMs` of now. No table of its own: the
 * `rateLimits` table keeps one bucket per item, and a conversation's clock item keeps the buckets of the
 * devices that send in it, spent in the same write that stamps their messages.
 */

export interface TokenBucketRule {
  /** Tokens a full bucket holds. */
  readonly burst: number;
  /** Milliseconds in which one token comes back. */
  readonly refillMs: number;
}

/** One conditional write of a spend: what it sets, on what condition, with which values. */
export interface SpendStep {
  readonly update: string;
  readonly condition: string;
  readonly values: Record<string, number>;
}

/**
 * The two writes that spend `cost` tokens of the bucket in `attribute` (an attribute name or a `#name`
 * placeholder), to try in order: from a full (or absent) bucket, then from a partly spent one. Their value
 * names start with `:bucket` so that they combine with another write's. Neither holds when the bucket
 * has not the tokens. `also` is set with each (a TTL attribute, say).
 */
export function spendSteps(attribute: string, cost: number, rule: TokenBucketRule, now: number, also = ''): [SpendStep, SpendStep] {
  if (cost > rule.burst) throw new Error(`A spend of ${cost} tokens can never fit a bucket of ${rule.burst}`);
  const costMs = cost * rule.refillMs;
  const windowMs = rule.burst * rule.refillMs;
  const extra = also ? `, ${also}` : '';
  return [
    // An idle (full) bucket starts again from now: tat + cost alone would bank the idle time.
    {
      update: `${attribute} = :bucketNext${extra}`,
      condition: `(attribute_not_exists(${attribute}) OR ${attribute} <= :bucketNow)`,
      values: { ':bucketNext': now + costMs, ':bucketNow': now },
    },
    // A tat more than a window ahead of now cannot come from this clock: a Lambda whose clock runs ahead wrote
    // it. Such a bucket is spent in that clock's terms, and left to the Lambdas that can see that far to refuse:
    // a clock behind must not refuse for minutes on a future it has not reached.
    {
      update: `${attribute} = ${attribute} + :bucketCost${extra}`,
      condition: `(${attribute} <= :bucketLatest OR ${attribute} > :bucketAhead)`,
      values: { ':bucketCost': costMs, ':bucketLatest': now + windowMs - costMs, ':bucketAhead': now + windowMs },
    },
  ];
}

/** How long until a bucket at `tat` has `cost` tokens. */
export function waitForTokens(tat: number | undefined, cost: number, rule: TokenBucketRule, now: number): number {
  return Math.max(0, (tat ?? now) + cost * rule.refillMs - rule.burst * rule.refillMs - now);
}
