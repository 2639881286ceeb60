/**
 * Request bodies and answers of the contacts, directory, privacy, blocks and presence HTTP routes, one
 * schema each (see docs/protocol.md, Contacts and presence).
 */
import * as z from './zod';
import { PhoneNumber } from './accounts-api';
import { ParleyError } from './errors';

/** The most numbers one lookup may ask about. */
export const MAX_LOOKUP_NUMBERS = 500;
/** The most contacts a user keeps on the server. */
export const MAX_CONTACTS = 2000;

/** POST /v1/directory/lookup */
export const LookupBody = z.strictObject({
  phoneNumbers: z.array(PhoneNumber).check(
    z.minLength(1),
    z.maxLength(MAX_LOOKUP_NUMBERS),
    z.refine((numbers) => new Set(numbers).size === numbers.length, 'each number once'),
  ),
});
export type LookupBody = z.infer<typeof LookupBody>;

/** The answer: the numbers that have an account, with their userIds; the others are left out. */
export interface LookupAnswer {
  found: { phoneNumber: string; userId: string }[];
}

/** PUT /v1/contacts: the user's whole contact list, replacing the one stored. */
export const ContactsBody = z.strictObject({
  userIds: z.array(z.uuid()).check(
    z.maxLength(MAX_CONTACTS),
    z.refine((ids) => new Set(ids).size === ids.length, 'each userId once'),
  ),
});
export type ContactsBody = z.infer<typeof ContactsBody>;

const Audience = z.enum(['everyone', 'contacts', 'nobody']);

/** PUT /v1/privacy: the settings to change; those left out keep their value. */
export const PrivacyBody = z
  .strictObject({ lastSeen: z.optional(Audience), online: z.optional(Audience), readReceipts: z.optional(z.boolean()) })
  .check(z.refine((body) => Object.keys(body).length > 0, 'at least one of lastSeen, online, readReceipts'));
export type PrivacyBody = z.infer<typeof PrivacyBody>;

/** A path's `{userId}`, or BAD_REQUEST. */
export function userIdParameter(pathParameters: Readonly<Record<string, string | undefined>>): string {
  const userId = z.uuid().safeParse(pathParameters.userId);
  if (!userId.success) throw new ParleyError('BAD_REQUEST', 'userId: a userId (UUID)');
  return userId.data;
}

/** What a viewer may see of a user's presence (GET /v1/presence/{userId}, PRESENCE frames). */
export interface PresenceView {
  userId: string;
  online: boolean;
  /** Epoch milliseconds the user's last device went away; only while offline, and only to those the user's settings let see it. */
  lastSeen?: number;
}
