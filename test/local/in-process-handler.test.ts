import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, PutRecordCommand, ResourceNotFoundException as KinesisResourceNotFound } from '@aws-sdk/client-kinesis';
import dynalite from 'dynalite';
import { createClients, type Clients } from '../../lambdas/runtime/clients';
import { startAwsEmulators } from '../../local/aws-emulators';
import { InProcessRequestHandler, type SdkHttpRequest } from '../../local/aws/in-process-handler';
import { closeServer } from '../../local/aws/loopback';
import { waitUntil } from '../../local/aws/wait';
import type { KinesisPut } from '../../local/kinesis/put-feed';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A server that is never listened on: whatever reaches it came in process. */
const serverAnswering = (listener: (request: IncomingMessage, response: ServerResponse) => void) => createServer(listener);

const readAll = async (stream: Readable): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
};

const request = (overrides: Partial<SdkHttpRequest> = {}): SdkHttpRequest => ({
  method: 'POST',
  path: '/things',
  headers: { 'Content-Type': 'application/json', 'X-Amz-Target': 'Things.Make' },
  body: '{"name":"a"}',
  ...overrides,
});

describe('InProcessRequestHandler', () => {
  it('gives the request to the server and streams its answer back: method, url, headers, body, status', async () => {
    const server = serverAnswering(async (incoming, response) => {
      const body = await readAll(incoming);
      response.statusCode = 201;
      response.setHeader('Content-Type', 'application/json');
      response.setHeader('X-Seen', JSON.stringify({ method: incoming.method, url: incoming.url, headers: incoming.headers }));
      response.end(JSON.stringify({ echoed: body }));
    });
    const { response } = await new InProcessRequestHandler(server).handle(
      request({ query: { b: 'two words', a: ['1', '2'], flag: null } }),
    );

    expect(response.statusCode).toBe(201);
    expect(response.reason).toBe('Created');
    expect(JSON.parse(response.headers['x-seen']!)).toEqual({
      method: 'POST',
      url: '/things?a=1&a=2&b=two%20words&flag',
      headers: { 'content-type': 'application/json', 'x-amz-target': 'Things.Make' },
    });
    // As Node's server adds them: the length of a body given to end(), and the date.
    expect(response.headers).toMatchObject({ 'content-type': 'application/json', 'content-length': '29' });
    expect(new Date(response.headers.date!).getTime()).not.toBeNaN();
    expect(response.body).toBeInstanceOf(Readable);
    expect(await readAll(response.body)).toBe('{"echoed":"{\\"name\\":\\"a\\"}"}');
  });

  it('streams a body written in chunks after writeHead, and takes a streamed or binary request body', async () => {
    const server = serverAnswering(async (incoming, response) => {
      const body = await readAll(incoming);
      response.writeHead(200, 'Fine', { 'x-part-count': 2 });
      response.write(`${body}|`);
      setImmediate(() => response.end('second'));
    });
    const handler = new InProcessRequestHandler(server);

    const streamed = await handler.handle(request({ body: Readable.from([Buffer.from('one'), Buffer.from('two')]) }));
    expect(streamed.response).toMatchObject({ statusCode: 200, reason: 'Fine', headers: { 'x-part-count': '2' } });
    expect(await readAll(streamed.response.body)).toBe('onetwo|second');

    const binary = await handler.handle(request({ body: new Uint8Array([104, 105]) }));
    expect(await readAll(binary.response.body)).toBe('hi|second');
  });

  it('fails the request when the listener throws, drops the response or the SDK aborts', async () => {
    const throwing = new InProcessRequestHandler(serverAnswering(() => {
      throw new Error('listener broke');
    }));
    await expect(throwing.handle(request())).rejects.toThrow('listener broke');

    const dropping = new InProcessRequestHandler(serverAnswering((_incoming, response) => response.destroy()));
    await expect(dropping.handle(request())).rejects.toMatchObject({ code: 'ECONNRESET' });

    const silent = new InProcessRequestHandler(serverAnswering(() => undefined));
    const controller = new AbortController();
    const pending = silent.handle(request(), { abortSignal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  describe('under the SDK, with dynalite never listening', () => {
    const server = dynalite({ createTableMs: 0 });
    const seen: IncomingMessage[] = [];
    server.on('request', (incoming: IncomingMessage) => seen.push(incoming));
    const db = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:1',
      credentials,
      requestHandler: new InProcessRequestHandler(server),
    });
    const TableName = 'things';

    beforeAll(async () => {
      await db.send(new CreateTableCommand({
        TableName,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }));
      await waitUntil(async () => {
        const put = db.send(new PutItemCommand({ TableName, Item: { id: { S: 'a' }, n: { N: '1' } } }));
        return put.then(() => true, () => false);
      }, 'the table to be ACTIVE');
    });
    afterAll(async () => {
      db.destroy();
      await closeServer(server).catch(() => undefined);
    });

    it('round-trips items, every request signed by the SDK as on AWS', async () => {
      const { Item } = await db.send(new GetItemCommand({ TableName, Key: { id: { S: 'a' } } }));
      expect(Item).toEqual({ id: { S: 'a' }, n: { N: '1' } });
      const last = seen.at(-1)!;
      expect(last.headers['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
      expect(last.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=local\/\d{8}\/us-east-1\/dynamodb\/aws4_request/);
      expect(server.listening).toBe(false);
    });

    it("turns the emulator's error answers into the SDK's typed exceptions", async () => {
      const conditional = db.send(new PutItemCommand({ TableName, Item: { id: { S: 'a' } }, ConditionExpression: 'attribute_not_exists(id)' }));
      await expect(conditional).rejects.toBeInstanceOf(ConditionalCheckFailedException);
      await expect(conditional).rejects.toMatchObject({ $fault: 'client', $metadata: { httpStatusCode: 400, attempts: 1 } });

      const missing = db.send(new GetItemCommand({ TableName: 'no-such-table', Key: { id: { S: 'a' } } }));
      await expect(missing).rejects.toBeInstanceOf(ResourceNotFoundException);
    });
  });

  it('lets the SDK retry a throttled request and type the error when retries run out', async () => {
    let answers = 0;
    const throttling = serverAnswering((_incoming, response) => {
      answers++;
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'slow down' }));
    });
    const db = new DynamoDBClient({ region: 'us-east-1', credentials, maxAttempts: 2, requestHandler: new InProcessRequestHandler(throttling) });
    try {
      const get = db.send(new GetItemCommand({ TableName: 'things', Key: { id: { S: 'a' } } }));
      await expect(get).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
      await expect(get).rejects.toMatchObject({ message: 'slow down', $metadata: { httpStatusCode: 400, attempts: 2 } });
      expect(answers).toBe(2);
    } finally {
      db.destroy();
    }
  });

  it('serves the runtime clients of startAwsEmulators in process, errors and the Kinesis put feed alike as over loopback', async () => {
    const emulators = await startAwsEmulators({ log: () => undefined });
    const settings = { region: 'us-east-1', endpoints: emulators.endpoints, credentials: emulators.credentials };
    const inProcess = createClients({ ...settings, requestHandlers: emulators.requestHandlers });
    const loopback = createClients(settings);
    const destroy = (clients: Clients) => [clients.db, clients.kinesis].forEach((client) => client.destroy());
    try {
      await inProcess.kinesis.send(new CreateStreamCommand({ StreamName: 'told', ShardCount: 1 }));
      await waitUntil(async () => {
        const put = inProcess.kinesis.send(new PutRecordCommand({ StreamName: 'told', PartitionKey: 'warm', Data: Buffer.from('0') }));
        return put.then(() => true, () => false);
      }, 'the stream to be ACTIVE');
      const puts: KinesisPut[] = [];
      const unsubscribe = emulators.kinesisPuts.subscribe((put) => puts.push(put));
      await inProcess.kinesis.send(new PutRecordCommand({ StreamName: 'told', PartitionKey: 'a', Data: Buffer.from('1') }));
      // Told before PutRecord returned, as over TCP: the server's 'finish' comes before the client has the body.
      unsubscribe();
      expect(puts).toEqual([{ streamName: 'told', hashKeys: [BigInt('0x0cc175b9c0f1b6a831c399e269772661')] }]);

      // The same failing requests, in process and over loopback, fail the same way.
      const failures = async (clients: Clients) => {
        const settle = (sent: Promise<unknown>) => sent.then(() => undefined, (error: any) => ({
          type: error.constructor.name,
          name: error.name,
          message: error.message,
          fault: error.$fault,
          status: error.$metadata?.httpStatusCode,
        }));
        return [
          await settle(clients.db.send(new GetItemCommand({ TableName: 'no-such-table', Key: { id: { S: 'a' } } }))),
          await settle(clients.kinesis.send(new PutRecordCommand({ StreamName: 'no-such-stream', PartitionKey: 'a', Data: Buffer.from('1') }))),
        ];
      };
      const inProcessFailures = await failures(inProcess);
      expect(inProcessFailures).toEqual(await failures(loopback));
      expect(inProcessFailures.map((failure) => failure?.type)).toEqual([ResourceNotFoundException.name, KinesisResourceNotFound.name]);
    } finally {
      destroy(inProcess);
      destroy(loopback);
      await emulators.stop();
    }
  });
});
