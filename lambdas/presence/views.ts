/**
 * Presence as each viewer may see it: reads what the privacy rules need about many (user, viewer) pairs
 * in batches (the users' contacts where a setting names contacts, the blocks between them, the viewers'
 * own settings), then applies `presenceView` to each pair.
 */
import type { PresenceView } from '../protocol/contacts-api';
import type { Deps } from '../runtime/deps';
import { blockKey, blocksAmong, pairOfBlockKey } from '../tables/blocks';
import { getContacts } from '../tables/contacts';
import { presenceOf, type PresenceRecord } from '../tables/presence';
import { mapConcurrently } from '../runtime/concurrency';
import { presenceView } from './visibility';

const namesContacts = ({ privacy }: PresenceRecord) => privacy.lastSeen === 'contacts' || privacy.online === 'contacts';

/** The view of each (presence, viewer) pair, in the order given. */
export async function viewsOf(deps: Deps, pairs: readonly { presence: PresenceRecord; viewer: string }[]): Promise<PresenceView[]> {
  const owners = [...new Map(pairs.map(({ presence }) => [presence.userId, presence])).values()];
  const [contacts, blocks, viewers] = await Promise.all([
    mapConcurrently(owners.filter(namesContacts), 8, async (owner) => [owner.userId, new Set(await getContacts(deps, owner.userId))] as const),
    // A viewer watching from several devices is one pair: a batch read must not name a key twice.
    blocksAmong(deps, [...new Set(pairs.map(({ presence, viewer }) => blockKey(presence.userId, viewer)))].map(pairOfBlockKey)),
    presenceOf(deps, pairs.map(({ viewer }) => viewer)),
  ]);
  const contactsOf = new Map(contacts);
  return pairs.map(({ presence, viewer }) =>
    presenceView(presence, viewer, {
      viewerIsContact: contactsOf.get(presence.userId)?.has(viewer) ?? false,
      viewerIsBlocked: blocks.has(blockKey(presence.userId, viewer)),
      viewerPrivacy: viewers.get(viewer)!.privacy,
    }),
  );
}
