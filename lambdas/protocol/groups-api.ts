/** Request bodies and answers of the groups HTTP API, one schema each. */
import * as z from './zod';

/** The most members a group may have, its creator included (WhatsApp's limit). */
export const MAX_GROUP_MEMBERS = 1024;

/** A group's name as the client chose to show it; clients that want it private encrypt it first. */
export const GroupName = z.string().check(z.trim(), z.minLength(1), z.maxLength(256));

const UserIds = z
  .array(z.uuid())
  .check(z.maxLength(MAX_GROUP_MEMBERS), z.refine((ids) => new Set(ids).size === ids.length, { message: 'a user is named twice' }));

/** POST /v1/groups: the creator is its first admin; `members` are the others. */
export const CreateGroupBody = z.strictObject({
  /** A fresh UUID from the client makes a retried create answer the group it made, not a second one. */
  groupId: z.optional(z.uuid()),
  name: GroupName,
  members: UserIds.check(z.maxLength(MAX_GROUP_MEMBERS - 1)),
});
export type CreateGroupBody = z.infer<typeof CreateGroupBody>;

/**
 * POST /v1/groups/{groupId}/members: admins add and remove members and make members admins; any member
 * may remove itself (leave). One request is one change, made whole or not at all.
 */
export const ChangeMembersBody = z
  .strictObject({
    add: z.optional(UserIds),
    remove: z.optional(UserIds),
    makeAdmin: z.optional(UserIds),
  })
  .check(
    z.refine((body) => (body.add?.length ?? 0) + (body.remove?.length ?? 0) + (body.makeAdmin?.length ?? 0) > 0, {
      message: 'name at least one user to add, remove or make admin',
    }),
  );
export type ChangeMembersBody = z.infer<typeof ChangeMembersBody>;

export const GroupId = z.uuid();

export type GroupRole = 'admin' | 'member';

/** What the groups routes answer. */
export interface GroupSummary {
  groupId: string;
  conversationId: string;
  name: string;
  version: number;
  members: { userId: string; role: GroupRole; joinedAt: number }[];
}

/** One of the caller's groups, as GET /v1/groups lists them. */
export interface MyGroup {
  groupId: string;
  conversationId: string;
  name: string;
  version: number;
  role: GroupRole;
  memberCount: number;
}
