import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/**
 * Awaits a conditional write: its output, or undefined when its condition did not hold. A failed
 * condition is an answer (someone else was first, the stored item is newer), not an error.
 *
 * @example
 * const stored = (await ifConditionHolds(db.send(new UpdateCommand({ ..., ConditionExpression })))) !== undefined;
 */
export async function ifConditionHolds<T>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}
