/**
 * Contacts, presence, typing, privacy and blocking in the template: their tables (keys, TTLs), the routing
 * table's TTL deletions reaching the route-expiry function, and least privilege: who may write what.
 */
import type { FunctionId } from '../../lambdas/functions';
import { webSocketRoutes } from '../../lambdas/functions';
import type { TableId } from '../../lambdas/resources';
import { eventSourceMappingOf, synthParley, tableAccessOf, tableResourceOf, type Synthesized } from './fixture';

describe('contacts, presence, typing, privacy and blocking', () => {
  let built: Synthesized;
  const writesTo = (tableId: TableId) =>
    Object.entries(tableAccessOf(built, tableId))
      .filter(([, actions]) => actions!.some((action) => /Put|Update|Delete|Write/.test(action)))
      .map(([functionId]) => functionId as FunctionId)
      .sort();

  beforeAll(() => {
    built = synthParley();
  });

  it('keys presence and contacts by user, subscriptions by watched user and watching device with a TTL, blocks by blocker and blocked', () => {
    expect(tableResourceOf(built, 'presence').Properties).toMatchObject({ KeySchema: [{ AttributeName: 'userId', KeyType: 'HASH' }] });
    expect(tableResourceOf(built, 'contacts').Properties).toMatchObject({ KeySchema: [{ AttributeName: 'userId', KeyType: 'HASH' }] });
    expect(tableResourceOf(built, 'presenceSubscriptions').Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'userId', KeyType: 'HASH' },
        { AttributeName: 'subscriber', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(tableResourceOf(built, 'blocks').Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'userId', KeyType: 'HASH' },
        { AttributeName: 'blockedUserId', KeyType: 'RANGE' },
      ],
    });
  });

  it('feeds the routing table’s TTL deletions to the route-expiry function', () => {
    expect(tableResourceOf(built, 'routing').Properties).toMatchObject({ StreamSpecification: { StreamViewType: 'OLD_IMAGE' } });
    expect(eventSourceMappingOf(built, 'routeExpiry')).toMatchObject({ FilterCriteria: expect.anything() });
  });

  it('routes SUBSCRIBE_PRESENCE and TYPING to their functions', () => {
    expect(webSocketRoutes.SUBSCRIBE_PRESENCE).toBe('subscribePresence');
    expect(webSocketRoutes.TYPING).toBe('typing');
  });

  it('lets typing write to no table at all: it is relayed, never stored', () => {
    const tables = Object.keys(built.stack.parley.tables) as TableId[];
    expect(tables.filter((tableId) => writesTo(tableId).includes('typing'))).toEqual([]);
    expect(tables.filter((tableId) => tableAccessOf(built, tableId).typing).sort()).toEqual(['blocks', 'groups', 'routing']);
  });

  it('lets only the privacy route and the connection functions write presence, the contacts route contacts, the block routes blocks', () => {
    expect(writesTo('presence')).toEqual(['connect', 'disconnect', 'putPrivacy', 'routeExpiry']);
    expect(writesTo('contacts')).toEqual(['putContacts']);
    expect(writesTo('blocks')).toEqual(['blockUser', 'unblockUser']);
  });

  it('lets the directory lookup only read accounts, and nothing but registration write them', () => {
    expect(tableAccessOf(built, 'accounts').lookupPhoneNumbers!.some((action) => /Put|Update|Delete|Write/.test(action))).toBe(false);
    expect(writesTo('accounts')).toEqual(['registerAccount']);
  });
});
