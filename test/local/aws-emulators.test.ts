import { getEventListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { CreateTableCommand, DescribeTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
  PutRecordCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createClients, type Clients } from '../../lambdas/runtime/clients';
import { startAwsEmulators, type AwsEmulators, type AwsEmulatorsOptions } from '../../local/aws-emulators';
import type { KinesisPut } from '../../local/kinesis/put-feed';
import { waitUntil } from '../../local/aws/wait';
import { startParleyLocal } from '../../local/runtime';

/** Clients over loopback HTTP, or (`inProcess`) through the emulators' request handlers. */
const clientsWith = (emulators: AwsEmulators, inProcess = false): Clients =>
  createClients({
    region: 'us-east-1',
    endpoints: emulators.endpoints,
    credentials: emulators.credentials,
    ...(inProcess ? { requestHandlers: emulators.requestHandlers } : {}),
  });

const destroy = (clients: Clients) =>
  [clients.db, clients.kinesis, clients.s3, clients.sns].forEach((client) => client.destroy());

// DynamoDB and Kinesis on the main thread, reached over loopback; and on a thread of their own, reached
// through the request handlers that post to it.
const placements: [string, AwsEmulatorsOptions, boolean][] = [
  ['on the main thread, over loopback', {}, false],
  ['DynamoDB and Kinesis on their own thread, through its request handlers', { emulatorThread: true }, true],
];

describe.each(placements)('awsEmulators %s', (_placement, placement, inProcess) => {
  const start = (options: AwsEmulatorsOptions) => startAwsEmulators({ ...placement, ...options });
  const clientsOf = (emulators: AwsEmulators) => clientsWith(emulators, inProcess);

  it('serves DynamoDB, Kinesis, S3 and SNS on loopback to the SDK clients made by createClients', async () => {
    const emulators = await start({ log: () => undefined });
    const clients = clientsOf(emulators);
    try {
      const loopback = /^http:\/\/127\.0\.0\.1:\d+$/;
      for (const endpoint of Object.values(emulators.endpoints)) expect(endpoint).toMatch(loopback);
      expect(emulators.credentials.s3).toEqual({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });

      await expect(clients.db.send(new ListTablesCommand({}))).resolves.toMatchObject({ TableNames: [] });
      await expect(clients.kinesis.send(new ListStreamsCommand({}))).resolves.toMatchObject({ StreamNames: [] });
      await expect(clients.s3.send(new ListBucketsCommand({}))).resolves.toMatchObject({ Buckets: [] });
      await clients.sns.send(new PublishCommand({ PhoneNumber: '+15550001111', Message: 'hello' }));
      expect(emulators.sns.outbox).toEqual([expect.objectContaining({ kind: 'sms', message: 'hello' })]);
    } finally {
      destroy(clients);
      await emulators.stop();
    }
  });

  it('tells of each Kinesis put once stored, with the hash keys that place its records on shards', async () => {
    const emulators = await start({ log: () => undefined });
    const clients = clientsOf(emulators);
    try {
      await clients.kinesis.send(new CreateStreamCommand({ StreamName: 'told', ShardCount: 1 }));
      const puts: KinesisPut[] = [];
      const unsubscribe = emulators.kinesisPuts.subscribe((put) => puts.push(put));

      const Records = [
        { PartitionKey: 'a', Data: Buffer.from('1') },
        { PartitionKey: 'b', ExplicitHashKey: '42', Data: Buffer.from('2') },
      ];
      await clients.kinesis.send(new PutRecordsCommand({ StreamName: 'told', Records }));
      unsubscribe();
      const afterUnsubscribing = { StreamName: 'told', PartitionKey: 'c', Data: Buffer.from('3') };
      await clients.kinesis.send(new PutRecordCommand(afterUnsubscribing));

      // MD5('a') as a 128-bit number; an explicit hash key as given.
      expect(puts).toEqual([{ streamName: 'told', hashKeys: [BigInt('0x0cc175b9c0f1b6a831c399e269772661'), 42n] }]);
    } finally {
      destroy(clients);
      await emulators.stop();
    }
  });

  it('keeps DynamoDB items, Kinesis records and S3 objects across a restart with the same data directory', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-emulators-test-'));
    try {
      const first = await start({ dataDir, log: () => undefined });
      const writer = clientsOf(first);
      await writer.db.send(
        new CreateTableCommand({
          TableName: 'kept',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        }),
      );
      // As on AWS, a new table takes writes once ACTIVE (dynalite on disk gets there a moment later).
      await waitUntil(async () => {
        const { Table } = await writer.db.send(new DescribeTableCommand({ TableName: 'kept' }));
        return Table?.TableStatus === 'ACTIVE';
      }, 'the table to be ACTIVE');
      await writer.db.send(new PutCommand({ TableName: 'kept', Item: { id: 'a', body: 'survives' } }));
      await writer.kinesis.send(new CreateStreamCommand({ StreamName: 'kept', ShardCount: 1 }));
      await waitUntil(async () => {
        const summary = await writer.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'kept' }));
        return summary.StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
      }, 'the stream to be ACTIVE');
      const record = { StreamName: 'kept', PartitionKey: 'p', Data: Buffer.from('record') };
      await writer.kinesis.send(new PutRecordCommand(record));
      await writer.s3.send(new CreateBucketCommand({ Bucket: 'kept' }));
      await writer.s3.send(new PutObjectCommand({ Bucket: 'kept', Key: 'object', Body: 'bytes' }));
      destroy(writer);
      await first.stop();

      const second = await start({ dataDir, log: () => undefined });
      const reader = clientsOf(second);
      try {
        const { Item } = await reader.db.send(new GetCommand({ TableName: 'kept', Key: { id: 'a' } }));
        expect(Item).toEqual({ id: 'a', body: 'survives' });
        const { ShardIterator } = await reader.kinesis.send(
          new GetShardIteratorCommand({
            StreamName: 'kept',
            ShardId: 'shardId-000000000000',
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        );
        const { Records } = await reader.kinesis.send(new GetRecordsCommand({ ShardIterator }));
        expect(Records?.map((record) => Buffer.from(record.Data!).toString())).toEqual(['record']);
        const object = await reader.s3.send(new GetObjectCommand({ Bucket: 'kept', Key: 'object' }));
        await expect(object.Body!.transformToString()).resolves.toBe('bytes');
      } finally {
        destroy(reader);
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the emulator thread', () => {
  let emulators: AwsEmulators;
  let clients: Clients;
  beforeAll(async () => {
    emulators = await startAwsEmulators({ emulatorThread: true, log: () => undefined });
    clients = clientsWith(emulators, true);
  });
  afterAll(async () => {
    destroy(clients);
    await emulators?.stop();
  });

  it('answers the errors the emulators answer, as the SDK error they are over HTTP', async () => {
    await expect(clients.db.send(new GetCommand({ TableName: 'absent', Key: { id: 'a' } }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it("moves a copy of a request's bytes to the thread, leaving the caller's buffer (a view of a shared pool) intact", async () => {
    const neighbour = Buffer.from('kept');
    const body = Buffer.from('{}');
    expect(body.buffer).toBe(neighbour.buffer);
    const handler = emulators.requestHandlers.dynamodb!;
    const { response } = await handler.handle({
      method: 'POST',
      path: '/',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        'x-amz-date': '20260101T000000Z',
        // dynalite wants a signature's shape, not a valid one.
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
      },
      body,
    });
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(await text(response.body))).toHaveProperty('TableNames');
    expect([body.toString(), neighbour.toString()]).toEqual(['{}', 'kept']);
    expect(body.buffer.byteLength).toBeGreaterThan(0);
  });

  it('rejects a request whose signal aborts, and leaves no listener on the signal', async () => {
    const controller = new AbortController();
    const listed = clients.kinesis.send(new ListStreamsCommand({}), { abortSignal: controller.signal });
    controller.abort();
    await expect(listed).rejects.toMatchObject({ name: 'AbortError' });

    const reused = new AbortController();
    for (let i = 0; i < 20; i++) await clients.kinesis.send(new ListStreamsCommand({}), { abortSignal: reused.signal });
    expect(getEventListeners(reused.signal, 'abort').length).toBeLessThan(2);
  });

  it('lets the local stack stop right after it starts, with answers to its stream readers still on the way (npm start hung on Ctrl-C)', async () => {
    const parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0, emulatorThread: true });
    await parley.stop();
  }, 10_000);
});
