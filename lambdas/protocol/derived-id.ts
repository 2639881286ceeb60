import { createHash } from 'node:crypto';

/**
 * A UUID-shaped id derived from `name` (a name-based UUID, version 5 layout over SHA-256): the same
 * event always gets the same id, so a client drops a repeat of it by id and a queue stores it once.
 */
export function derivedId(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
