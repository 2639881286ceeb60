/**
 * Small helpers that turn the plain definitions of `lambdas/resources.ts` and `lambdas/functions.ts` into
 * what the constructs iterate over. Nothing here restates a table key, a route or an environment variable.
 */

/** `Object.entries` that keeps the key type of a definitions record. */
export function entriesOf<T extends object>(record: T): [keyof T & string, T[keyof T]][] {
  return Object.entries(record) as [keyof T & string, T[keyof T]][];
}

/** A construct id for a definition key: `verificationCodes` → `VerificationCodes`. */
export function constructId(key: string): string {
  return key.charAt(0).toUpperCase() + key.slice(1);
}
