import { createServer } from 'node:http';
import { MessageChannel } from 'node:worker_threads';
import { text } from 'node:stream/consumers';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { createClients, type RequestHandler } from '../../lambdas/runtime/clients';
import { InProcessRequestHandler } from '../../local/aws/in-process-handler';
import { Readable } from 'node:stream';
import { FairRequestQueue, RequestChannel, servePortRequests, type RequestPort, type ServingHandler } from '../../local/aws/request-port';
import { startAwsEmulators, type AwsEmulatorsOptions } from '../../local/aws-emulators';

describe('FairRequestQueue', () => {
  /** A task that records its start and finishes when told to. */
  const recording = (started: string[]) => {
    const finishers: (() => void)[] = [];
    const task = (name: string) => () =>
      new Promise<void>((resolve) => {
        started.push(name);
        finishers.push(resolve);
      });
    const finishNext = async () => {
      finishers.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    };
    return { task, finishNext };
  };

  it('takes callers in turn, so one caller’s many requests do not stand in front of another’s', async () => {
    const started: string[] = [];
    const { task, finishNext } = recording(started);
    const queue = new FairRequestQueue(1);
    for (let i = 1; i <= 4; i++) queue.run('fan-out', task(`fan-out ${i}`));
    queue.run('1:1', task('1:1 a'));
    queue.run('1:1', task('1:1 b'));
    for (let i = 0; i < 5; i++) await finishNext();
    // The fan-out came first and has its turn first; from then on the two alternate.
    expect(started).toEqual(['fan-out 1', 'fan-out 2', '1:1 a', 'fan-out 3', '1:1 b', 'fan-out 4']);
  });

  it('has at most its concurrency of requests running at once', async () => {
    const started: string[] = [];
    const { task, finishNext } = recording(started);
    const queue = new FairRequestQueue(2);
    for (const name of ['a', 'b', 'c', 'd']) queue.run(name, task(name));
    expect(started).toEqual(['a', 'b']);
    await finishNext();
    expect(started).toEqual(['a', 'b', 'c']);
  });

  it('goes on after a request that failed', async () => {
    const queue = new FairRequestQueue(1);
    const ran: string[] = [];
    queue.run('a', () => Promise.reject(new Error('refused')).catch(() => void ran.push('failed')));
    queue.run('a', async () => void ran.push('next'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(ran).toEqual(['failed', 'next']);
  });
});

describe('RequestChannel and servePortRequests', () => {
  it('carry a signed request to a server on the other end of a port and its whole response back', async () => {
    const server = createServer((request, response) => {
      void text(request).then((body) => response.writeHead(201, { 'x-echo': `${request.method} ${request.url}` }).end(`got ${body}`));
    });
    const { port1, port2 } = new MessageChannel();
    servePortRequests(port1, { echo: new InProcessRequestHandler(server) });
    const handler = new RequestChannel(port2, () => 'invocation 1').handlerFor('echo');
    try {
      const { response } = await handler.handle({ method: 'POST', path: '/items', query: { b: '2', a: '1' }, headers: { host: 'local' }, body: new TextEncoder().encode('bytes') });
      expect(response.statusCode).toBe(201);
      expect(response.headers['x-echo']).toBe('POST /items?a=1&b=2');
      expect(await text(response.body)).toBe('got bytes');
    } finally {
      port1.close();
    }
  });

  it('fails a request for a service the other end does not serve, with its name', async () => {
    const { port1, port2 } = new MessageChannel();
    servePortRequests(port1, {});
    try {
      await expect(new RequestChannel(port2).handlerFor('s3').handle({ method: 'GET', path: '/', headers: {} })).rejects.toThrow('No s3 server answers on this port');
    } finally {
      port1.close();
    }
  });
});

describe('a port between threads', () => {
  /** A port that records what is posted through it. */
  const counted = (port: RequestPort, posts: unknown[]): RequestPort => ({
    postMessage: (message, transfer) => {
      posts.push(message);
      port.postMessage(message, transfer);
    },
    on: (event, listener) => port.on(event, listener),
  });
  /** A server that answers every request at once when told to, each with its own path back. */
  const heldServer = () => {
    let release = () => undefined as void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const handler: ServingHandler = {
      handle: async (request) => {
        await released;
        return { response: { statusCode: 200, headers: {}, body: Readable.from([Buffer.from(request.path)]) } };
      },
    };
    return { handler, release };
  };

  it('carries the requests made in one turn in one message, and the answers ready in one turn in one message', async () => {
    const { port1, port2 } = new MessageChannel();
    const [requestPosts, answerPosts] = [[] as unknown[], [] as unknown[]];
    const { handler, release } = heldServer();
    servePortRequests(counted(port1, answerPosts), { held: handler });
    const channel = new RequestChannel(counted(port2, requestPosts)).handlerFor('held');
    try {
      const answers = ['/a', '/b', '/c'].map((path) => channel.handle({ method: 'GET', path, headers: {} }));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(requestPosts).toEqual([{ type: 'requests', requests: ['/a', '/b', '/c'].map((path) => expect.objectContaining({ service: 'held', request: expect.objectContaining({ path }) })) }]);
      release();
      const bodies = await Promise.all(answers.map(async (answer) => text((await answer).response.body)));
      expect(bodies).toEqual(['/a', '/b', '/c']);
      expect(answerPosts).toEqual([{ type: 'answers', answers: [expect.objectContaining({ type: 'response' }), expect.objectContaining({ type: 'response' }), expect.objectContaining({ type: 'response' })] }]);
    } finally {
      port1.close();
    }
  });

  /** A port whose next post throws, as a `postMessage` of something that cannot be copied does. */
  const refusingOnce = (port: RequestPort): RequestPort => {
    let refuse = true;
    return {
      postMessage: (message, transfer) => {
        if (refuse) {
          refuse = false;
          throw Object.assign(new Error('could not be cloned'), { name: 'DataCloneError' });
        }
        port.postMessage(message, transfer);
      },
      on: (event, listener) => port.on(event, listener),
    };
  };

  it('fails each request of a post that throws, with its error, and carries the next ones', async () => {
    const { port1, port2 } = new MessageChannel();
    const { handler, release } = heldServer();
    release();
    servePortRequests(port1, { held: handler });
    const channel = new RequestChannel(refusingOnce(port2)).handlerFor('held');
    try {
      const refused = ['/a', '/b'].map((path) => channel.handle({ method: 'GET', path, headers: {} }));
      for (const request of refused) await expect(request).rejects.toMatchObject({ name: 'DataCloneError', message: 'could not be cloned' });
      expect(await text((await channel.handle({ method: 'GET', path: '/c', headers: {} })).response.body)).toBe('/c');
    } finally {
      port1.close();
    }
  });

  it('fails each request whose answer could not be posted, rather than leaving it waiting', async () => {
    const { port1, port2 } = new MessageChannel();
    const { handler, release } = heldServer();
    release();
    servePortRequests(refusingOnce(port1), { held: handler });
    const channel = new RequestChannel(port2).handlerFor('held');
    try {
      await expect(channel.handle({ method: 'GET', path: '/a', headers: {} })).rejects.toMatchObject({ name: 'DataCloneError' });
      expect(await text((await channel.handle({ method: 'GET', path: '/b', headers: {} })).response.body)).toBe('/b');
    } finally {
      port1.close();
    }
  });

  it('carries requests made in different turns in messages of their own', async () => {
    const { port1, port2 } = new MessageChannel();
    const requestPosts: unknown[] = [];
    const { handler, release } = heldServer();
    servePortRequests(port1, { held: handler });
    const channel = new RequestChannel(counted(port2, requestPosts)).handlerFor('held');
    try {
      const first = channel.handle({ method: 'GET', path: '/first', headers: {} });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const second = channel.handle({ method: 'GET', path: '/second', headers: {} });
      await new Promise((resolve) => setTimeout(resolve, 20));
      release();
      expect(await text((await first).response.body)).toBe('/first');
      expect(await text((await second).response.body)).toBe('/second');
      expect(requestPosts).toHaveLength(2);
    } finally {
      port1.close();
    }
  });
});

// A function thread's clients reach DynamoDB through `connect()`: to the emulator thread, or answered here.
describe.each<[string, AwsEmulatorsOptions]>([
  ['on the main thread', {}],
  ['on their own thread', { emulatorThread: true }],
])('awsEmulators.connect with DynamoDB and Kinesis %s', (_placement, placement) => {
  it('gives a port through which an SDK client reaches DynamoDB', async () => {
    const emulators = await startAwsEmulators({ ...placement, log: () => undefined });
    const port = emulators.connect();
    try {
      const channel = new RequestChannel(port);
      const clients = createClients({
        region: 'us-east-1',
        endpoints: emulators.endpoints,
        credentials: emulators.credentials,
        requestHandlers: { dynamodb: channel.handlerFor('dynamodb') as unknown as RequestHandler },
      });
      await clients.db.send(
        new CreateTableCommand({ TableName: 'ported', AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }),
      );
      await clients.db.send(new PutCommand({ TableName: 'ported', Item: { id: 'a', value: 1 } }));
      expect((await clients.db.send(new GetCommand({ TableName: 'ported', Key: { id: 'a' } }))).Item).toEqual({ id: 'a', value: 1 });
      clients.db.destroy();
    } finally {
      port.close();
      await emulators.stop();
    }
  });
});
