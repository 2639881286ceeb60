/** The Key Distribution Service in the template: its tables, and which functions may touch them and how. */
import type { FunctionId } from '../../lambdas/functions';
import type { TableId } from '../../lambdas/resources';
import { logicalIdOf, referencedLogicalIds, resourcesOf, statementsOfRole, synthParley, tableAccessOf, tableResourceOf, type Synthesized } from './fixture';

const KEY_FETCHERS: FunctionId[] = ['fetchUserKeys', 'fetchKeysBatch', 'fetchKeys'];
const UPLOADERS: FunctionId[] = ['uploadKeys', 'uploadPrekeys'];
/** Account code that deletes the keys of a device that leaves or whose id is given anew. */
const KEY_FORGETTERS: FunctionId[] = ['registerAccount', 'linkDevice', 'removeDevice'];

describe('Key Distribution Service', () => {
  let built: Synthesized;
  const tableResource = (tableId: TableId) => tableResourceOf(built, tableId);
  const accessTo = (tableId: TableId) => tableAccessOf(built, tableId);
  const writes = (actions: string[] = []) => actions.includes('dynamodb:DeleteItem') && actions.includes('dynamodb:PutItem');

  beforeAll(() => {
    built = synthParley();
  });

  it('keeps device keys by user and device, one-time prekeys by device and slot, fetch limits by bucket with a TTL', () => {
    expect(tableResource('deviceKeys').Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'userId', KeyType: 'HASH' },
        { AttributeName: 'deviceId', KeyType: 'RANGE' },
      ],
    });
    expect(tableResource('oneTimePrekeys').Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'device', KeyType: 'HASH' },
        { AttributeName: 'slot', KeyType: 'RANGE' },
      ],
    });
    expect(tableResource('rateLimits').Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'bucket', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(tableResource('oneTimePrekeys').Properties.TimeToLiveSpecification).toBeUndefined();
  });

  it('lets only uploaders, fetchers and the account code that forgets keys reach device keys and one-time prekeys', () => {
    for (const tableId of ['deviceKeys', 'oneTimePrekeys'] as const) {
      const access = accessTo(tableId);
      const writers = Object.keys(access).filter((id) => writes(access[id as FunctionId])).sort();
      expect({ tableId, writers }).toEqual({ tableId, writers: [...UPLOADERS, ...KEY_FETCHERS, ...KEY_FORGETTERS].sort() });
    }
    // The count reads the pool and nothing else.
    const counter = accessTo('oneTimePrekeys').countPrekeys!;
    expect(counter.some((action) => /Put|Update|Delete|Write/.test(action))).toBe(false);
    expect(accessTo('deviceKeys').countPrekeys).toBeUndefined();
  });

  it('lets only the fetchers, the message senders, the media URL makers and the directory lookup reach the rate limits', () => {
    expect(Object.keys(accessTo('rateLimits')).sort()).toEqual([...KEY_FETCHERS, 'send', 'groupSend', 'createMediaUpload', 'getMediaDownload', 'lookupPhoneNumbers'].sort());
  });

  it('lets no uploader touch queues or limits, and only the WebSocket one read routes and close connections', () => {
    for (const functionId of UPLOADERS) {
      const resources = statementsOfRole(built.template, logicalIdOf(built.stack.parley.functions[functionId].role!)).map((s) => JSON.stringify(s));
      // UPLOAD_PREKEYS, like every WebSocket route, first checks that its connection is the device's current
      // one, and closes a replaced one; the HTTP upload has no connection.
      const onWebSocket = functionId === 'uploadPrekeys';
      expect(resources.some((statement) => statement.includes('execute-api:ManageConnections'))).toBe(onWebSocket);
      expect(accessTo('routing')[functionId]?.some((action) => /Put|Update|Delete|Write/.test(action)) ?? false).toBe(false);
      if (!onWebSocket) expect(accessTo('routing')[functionId]).toBeUndefined();
      for (const tableId of ['deviceQueues', 'rateLimits'] as const) expect(accessTo(tableId)[functionId]).toBeUndefined();
    }
  });

  it('routes FETCH_KEYS and UPLOAD_PREKEYS on the WebSocket API', () => {
    const routeKeys = Object.values(resourcesOf<{ RouteKey: string; ApiId: unknown }>(built.template, 'AWS::ApiGatewayV2::Route'))
      .filter((route) => referencedLogicalIds(route.Properties.ApiId).has(logicalIdOf(built.stack.parley.webSocketApi)))
      .map((route) => route.Properties.RouteKey);
    expect(routeKeys).toEqual(expect.arrayContaining(['FETCH_KEYS', 'UPLOAD_PREKEYS']));
  });
});
