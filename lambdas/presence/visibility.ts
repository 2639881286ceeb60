/**
 * The privacy rules of presence, as one pure function: what a viewer may see of a user's presence, given
 * the user's settings, contacts and blocks and the viewer's own settings. docs/protocol.md states them as
 * a table; test/e2e/presence.test.ts checks each row through the local stack.
 */
import type { PresenceView } from '../protocol/contacts-api';
import type { Audience, PresenceRecord, PrivacySettings } from '../tables/presence';

/** What the rules need to know of the relation between the watched user and one viewer. */
export interface Relation {
  /** The viewer is in the watched user's contacts. */
  readonly viewerIsContact: boolean;
  /** The watched user blocked the viewer. */
  readonly viewerIsBlocked: boolean;
  /** The viewer's own settings (reciprocity). */
  readonly viewerPrivacy: PrivacySettings;
}

const admits = (audience: Audience, relation: Relation) =>
  audience === 'everyone' || (audience === 'contacts' && relation.viewerIsContact);

/**
 * - A blocked viewer sees what a user who hides everything shows: offline, no last seen.
 * - `online` is shown to the audience of the user's `online` setting.
 * - `lastSeen` is shown while offline to the audience of the user's `lastSeen` setting, and only to a viewer
 *   who shows their own last seen to someone (WhatsApp's reciprocity: who hides it from all sees no one's).
 * - One's own presence is always visible to oneself.
 */
export function presenceView(presence: PresenceRecord, viewerUserId: string, relation: Relation): PresenceView {
  const { userId, online, lastSeenAt, privacy } = presence;
  if (viewerUserId === userId) return { userId, online, ...(!online && lastSeenAt !== undefined ? { lastSeen: lastSeenAt } : {}) };
  if (relation.viewerIsBlocked) return { userId, online: false };
  const showsOnline = online && admits(privacy.online, relation);
  const showsLastSeen =
    !online && lastSeenAt !== undefined && admits(privacy.lastSeen, relation) && relation.viewerPrivacy.lastSeen !== 'nobody';
  return { userId, online: showsOnline, ...(showsLastSeen ? { lastSeen: lastSeenAt } : {}) };
}

/**
 * Whether a read receipt travels between the reader and the peer of a 1:1 chat: only when both send read
 * receipts (who turns them off neither sends nor receives them). Groups keep them whatever the settings.
 */
export const readReceiptsFlow = (reader: PrivacySettings, peer: PrivacySettings) => reader.readReceipts && peer.readReceipts;
