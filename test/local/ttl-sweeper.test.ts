import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { createClients, type Clients } from '../../lambdas/runtime/clients';
import { startAwsEmulators, type AwsEmulators } from '../../local/aws-emulators';
import { provisionResources, type ResourceDefinitions } from '../../local/provision';
import { startTtlSweeper, ttlTablesOf, type Item, type TtlTable } from '../../local/ttl-sweeper';

const NOW_MS = 1_800_000_000_000;
const NOW_S = NOW_MS / 1000;

type TableId = 'codes' | 'routes' | 'plain';

const definitions: ResourceDefinitions<TableId, never, never> = {
  tables: {
    codes: { partitionKey: { name: 'phoneNumber', type: 'S' }, timeToLiveAttribute: 'expiresAt', envVar: 'CODES' },
    routes: {
      partitionKey: { name: 'userId', type: 'S' },
      sortKey: { name: 'deviceId', type: 'N' },
      timeToLiveAttribute: 'expiresAt',
      envVar: 'ROUTES',
    },
    plain: { partitionKey: { name: 'id', type: 'S' }, envVar: 'PLAIN' },
  },
  streams: {},
  buckets: {},
};

describe('ttlSweeper', () => {
  let emulators: AwsEmulators;
  let clients: Clients;
  let db: DynamoDBDocumentClient;
  let tables: TtlTable<TableId>[];
  let names: Record<TableId, string>;

  beforeAll(async () => {
    emulators = await startAwsEmulators({ log: () => undefined });
    const { endpoints, credentials } = emulators;
    clients = createClients({ region: 'us-east-1', endpoints, credentials });
    db = clients.db;
    names = (await provisionResources(clients, definitions, (id) => `ttl-${id}`)).tables;
    tables = ttlTablesOf(names, definitions.tables);
  });
  afterAll(async () => {
    [clients.db, clients.kinesis, clients.s3].forEach((client) => client.destroy());
    await emulators.stop();
  });
  beforeEach(async () => {
    for (const [id, { partitionKey, sortKey }] of Object.entries(definitions.tables)) {
      const TableName = names[id as TableId];
      const { Items = [] } = await db.send(new ScanCommand({ TableName }));
      for (const item of Items) {
        const keyNames = [partitionKey.name, ...(sortKey ? [sortKey.name] : [])];
        const Key = Object.fromEntries(keyNames.map((name) => [name, item[name]]));
        await db.send(new DeleteCommand({ TableName, Key }));
      }
    }
  });

  const put = (table: TableId, item: Item) => db.send(new PutCommand({ TableName: names[table], Item: item }));
  const get = async (table: TableId, key: Item) =>
    (await db.send(new GetCommand({ TableName: names[table], Key: key }))).Item;

  it('takes the tables with a TTL attribute from their definitions', () => {
    expect(tables).toEqual([
      { tableId: 'codes', tableName: 'ttl-codes', keyNames: ['phoneNumber'], ttlAttribute: 'expiresAt' },
      { tableId: 'routes', tableName: 'ttl-routes', keyNames: ['userId', 'deviceId'], ttlAttribute: 'expiresAt' },
    ]);
  });

  it('deletes only expired items and hands each deleted item to onExpired', async () => {
    await put('codes', { phoneNumber: '+1', code: '111', expiresAt: NOW_S - 1 });
    await put('codes', { phoneNumber: '+2', code: '222', expiresAt: NOW_S + 60 });
    await put('codes', { phoneNumber: '+3', code: '333' });
    await put('codes', { phoneNumber: '+4', code: '444', expiresAt: String(NOW_S - 1) });
    await put('routes', { userId: 'u', deviceId: 1, connectionId: 'c1', expiresAt: NOW_S - 3600 });
    await put('plain', { id: 'p', expiresAt: NOW_S - 1 });
    const expired: [string, Item][] = [];
    const sweeper = startTtlSweeper({
      db,
      tables,
      intervalMs: 60_000,
      now: () => NOW_MS,
      onExpired: (tableId, item) => void expired.push([tableId, item]),
    });

    await sweeper.sweepOnce();
    await sweeper.stop();

    expect(expired).toEqual([
      ['codes', { phoneNumber: '+1', code: '111', expiresAt: NOW_S - 1 }],
      ['routes', { userId: 'u', deviceId: 1, connectionId: 'c1', expiresAt: NOW_S - 3600 }],
    ]);
    expect(await get('codes', { phoneNumber: '+1' })).toBeUndefined();
    expect(await get('codes', { phoneNumber: '+2' })).toBeDefined();
    expect(await get('codes', { phoneNumber: '+3' })).toBeDefined();
    expect(await get('codes', { phoneNumber: '+4' })).toBeDefined();
    expect(await get('plain', { id: 'p' })).toBeDefined();
  });

  it('pages through the Scan, so every expired item goes however many pages there are', async () => {
    for (let n = 0; n < 9; n++) {
      await put('codes', { phoneNumber: `+${n}`, expiresAt: n % 3 === 0 ? NOW_S + 60 : NOW_S - 60 });
    }
    const expired: Item[] = [];
    const sweeper = startTtlSweeper({
      db,
      tables,
      intervalMs: 60_000,
      now: () => NOW_MS,
      pageSize: 2,
      onExpired: (_, item) => void expired.push(item),
    });

    await sweeper.sweepOnce();
    await sweeper.stop();

    expect(expired.map((item) => item.phoneNumber).sort()).toEqual(['+1', '+2', '+4', '+5', '+7', '+8']);
    const { Items } = await db.send(new ScanCommand({ TableName: names.codes }));
    expect(Items?.map((item) => item.phoneNumber).sort()).toEqual(['+0', '+3', '+6']);
  });

  it('spares an item refreshed between the Scan and its delete', async () => {
    await put('routes', { userId: 'u', deviceId: 7, expiresAt: NOW_S - 1 });
    // The refresh lands just before the sweeper's delete, as a heartbeat racing the sweep would.
    const racing = Object.create(db) as DynamoDBDocumentClient;
    racing.send = (async (command: unknown) => {
      if (command instanceof DeleteCommand) {
        await db.send(
          new UpdateCommand({
            TableName: names.routes,
            Key: { userId: 'u', deviceId: 7 },
            UpdateExpression: 'SET expiresAt = :later',
            ExpressionAttributeValues: { ':later': NOW_S + 600 },
          }),
        );
      }
      return db.send(command as never);
    }) as DynamoDBDocumentClient['send'];
    const onExpired = jest.fn();
    const sweeper = startTtlSweeper({ db: racing, tables, intervalMs: 60_000, now: () => NOW_MS, onExpired });

    await sweeper.sweepOnce();
    await sweeper.stop();

    expect(onExpired).not.toHaveBeenCalled();
    const kept = await get('routes', { userId: 'u', deviceId: 7 });
    expect(kept).toEqual({ userId: 'u', deviceId: 7, expiresAt: NOW_S + 600 });
  });

  it('sweeps by itself every interval until stopped', async () => {
    await put('codes', { phoneNumber: '+9', expiresAt: Date.now() / 1000 - 1 });
    let reportExpiry!: (item: Item) => void;
    const reported = new Promise<Item>((resolve) => (reportExpiry = resolve));
    const sweeper = startTtlSweeper({ db, tables, intervalMs: 10, onExpired: (_, item) => reportExpiry(item) });

    await expect(reported).resolves.toMatchObject({ phoneNumber: '+9' });
    await sweeper.stop();
  });
});
