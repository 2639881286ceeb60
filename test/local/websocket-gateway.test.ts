import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { connect as netConnect, type NetConnectOpts, type Socket } from 'node:net';
import WebSocket from 'ws';
import {
  WebSocketAuthorizerEvent,
  WebSocketRouteEvent,
  type WebSocketAuthorizerResponse,
} from '../../lambdas/runtime/gateway-events';
import type { WebSocketAuthorizerEvent as WebSocketAuthorizerEventShape } from '../../local/gateway-event-shapes';
import { AwsWebSocketAuthorizerEvent, AwsWebSocketRouteEvent, parseAsAwsAndHandlers } from '../support/aws-event-schemas';
import {
  startWebSocketGateway,
  type WebSocketGateway,
  type WebSocketGatewayOptions,
  type WebSocketIntegration,
  type WebSocketGatewayEvent,
} from '../../local/websocket-gateway';
import { FrameInspector, type FrameViolation } from '../../local/websocket-frame-limits';

const KB = 1024;
const TOKEN = 'Bearer device-token';

const allow = (context: Record<string, string | number | boolean> = { userId: 'alice', deviceId: 1 }) =>
  async (event: WebSocketAuthorizerEventShape): Promise<WebSocketAuthorizerResponse> => ({
    principalId: 'alice',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
    },
    context,
  });

/** A gateway whose routes record their events; `routes` and the rest may be overridden per test. */
function harness() {
  const events: WebSocketGatewayEvent[] = [];
  const authorizerEvents: WebSocketAuthorizerEventShape[] = [];
  const record: WebSocketIntegration = async (event) => {
    events.push(event);
    return { statusCode: 200 };
  };
  const echo: WebSocketIntegration = async (event) => {
    events.push(event);
    return { statusCode: 200, body: JSON.stringify({ route: event.requestContext.routeKey, body: event.body }) };
  };
  let gateway: WebSocketGateway | undefined;
  const start = async (overrides: Partial<WebSocketGatewayOptions> = {}) => {
    events.length = 0;
    authorizerEvents.length = 0;
    const authorize = allow();
    gateway = await startWebSocketGateway({
      stage: 'test',
      routeSelectionExpression: '$request.body.action',
      routes: { $connect: record, $disconnect: record, $default: echo, ECHO: echo, QUIET: echo },
      twoWay: (routeKey) => !['QUIET', '$connect', '$disconnect'].includes(routeKey),
      authorizer: {
        identityHeader: 'Authorization',
        invoke: async (event) => {
          authorizerEvents.push(event);
          return authorize(event);
        },
      },
      ...overrides,
    });
    return gateway;
  };
  const of = (eventType: string) => events.filter((event) => event.requestContext.eventType === eventType);
  return { events, authorizerEvents, start, of, record, stop: () => gateway?.close() };
}

/** Opens a client connection; rejects with the HTTP status when the handshake is refused. */
function connect(url: string, headers: Record<string, string> = { Authorization: TOKEN }, protocols?: string[]) {
  return new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', (error) => {
      const status = /Unexpected server response: (\d+)/.exec(error.message)?.[1];
      reject(status ? Number(status) : error);
    });
  });
}

const refusal = (url: string, headers?: Record<string, string>) =>
  connect(url, headers).then(
    (ws) => {
      ws.close();
      throw new Error('the handshake was accepted');
    },
    (status: unknown) => status,
  );

const nextMessage = (ws: WebSocket) =>
  new Promise<string>((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString('utf8'))));

const closeOf = (ws: WebSocket) =>
  new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const managementClient = (gateway: WebSocketGateway) =>
  new ApiGatewayManagementApiClient({
    endpoint: gateway.connectionsEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

const sdkError = (work: Promise<unknown>) =>
  work.then(
    () => {
      throw new Error('the call succeeded');
    },
    (error: Error & { $metadata?: { httpStatusCode?: number } }) => error,
  );

describe('the WebSocket handshake', () => {
  const h = harness();
  afterEach(() => h.stop());

  it('refuses a client without the identity header with 401, without invoking the authorizer', async () => {
    const gateway = await h.start();
    expect(await refusal(gateway.url, {})).toBe(401);
    expect(h.authorizerEvents).toHaveLength(0);
    expect(h.of('CONNECT')).toHaveLength(0);
  });

  it('refuses with 403 when the authorizer returns a Deny policy', async () => {
    const gateway = await h.start({
      authorizer: {
        identityHeader: 'Authorization',
        invoke: async (event) => ({
          principalId: 'mallory',
          policyDocument: {
            Version: '2012-10-17',
            Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: event.methodArn }],
          },
        }),
      },
    });
    expect(await refusal(gateway.url)).toBe(403);
    expect(h.of('CONNECT')).toHaveLength(0);
  });

  it('refuses with 401 when the authorizer fails with "Unauthorized", and with 500 when it fails otherwise', async () => {
    let failure = new Error('Unauthorized');
    const gateway = await h.start({
      authorizer: {
        identityHeader: 'Authorization',
        invoke: async () => {
          throw failure;
        },
      },
    });
    expect(await refusal(gateway.url)).toBe(401);
    failure = new Error('table unavailable');
    expect(await refusal(gateway.url)).toBe(500);
  });

  it('refuses with the status $connect answers outside 2xx, and with 500 when $connect throws', async () => {
    let connect$: WebSocketIntegration = async () => ({ statusCode: 409 });
    const gateway = await h.start({
      routes: { $connect: (event) => connect$(event), $disconnect: h.record },
    });
    expect(await refusal(gateway.url)).toBe(409);
    connect$ = async () => {
      throw new Error('boom');
    };
    expect(await refusal(gateway.url)).toBe(500);
    expect(gateway.connectionIds()).toEqual([]);
    expect(h.of('DISCONNECT')).toHaveLength(0);
  });

  it('sends the authorizer a REQUEST event that parses with WebSocketAuthorizerEvent', async () => {
    const gateway = await h.start({ apiId: 'abcdef1234', accountId: '123456789012', region: 'eu-west-1' });
    (await connect(gateway.url)).close();
    (await connect(`${gateway.url}?device=7&device=8`)).close();

    const [plain, withQuery] = h.authorizerEvents.map((event) => parseAsAwsAndHandlers(AwsWebSocketAuthorizerEvent, WebSocketAuthorizerEvent, event));
    expect(plain).toMatchObject({
      type: 'REQUEST',
      methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/test/$connect',
      headers: { Authorization: TOKEN },
      multiValueHeaders: { Authorization: [TOKEN] },
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      isBase64Encoded: false,
      requestContext: {
        routeKey: '$connect',
        eventType: 'CONNECT',
        messageDirection: 'IN',
        stage: 'test',
        apiId: 'abcdef1234',
        identity: { sourceIp: '127.0.0.1' },
      },
    });
    const context = plain!.requestContext;
    expect(context.connectionId).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    expect(context.requestTime).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(context.extendedRequestId).toBe(context.requestId);
    expect(withQuery).toMatchObject({
      queryStringParameters: { device: '8' },
      multiValueQueryStringParameters: { device: ['7', '8'] },
    });
  });

  it('refuses new connections beyond the per-second limit with 429', async () => {
    const gateway = await h.start({ limits: { newConnectionsPerSecond: 2 } });
    const first = await connect(gateway.url);
    const second = await connect(gateway.url);
    expect(await refusal(gateway.url)).toBe(429);
    first.close();
    second.close();
  });

  it('agrees to the subprotocol $connect names, and to none it does not', async () => {
    const gateway = await h.start({
      routes: {
        $connect: async (event) =>
          event.headers?.['Sec-WebSocket-Protocol']?.includes('parley.v1')
            ? { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': 'parley.v1' } }
            : { statusCode: 200 },
      },
    });
    const chosen = await connect(gateway.url, { Authorization: TOKEN }, ['parley.v2', 'parley.v1']);
    expect(chosen.protocol).toBe('parley.v1');
    chosen.close();
    await expect(connect(gateway.url, { Authorization: TOKEN }, ['other'])).rejects.toThrow(/subprotocol/);
  });
});

describe('WebSocket events', () => {
  const h = harness();
  afterEach(() => h.stop());

  it('carry the authorizer context on $connect, every message and $disconnect, and parse with WebSocketRouteEvent', async () => {
    const gateway = await h.start();
    const ws = await connect(gateway.url);
    ws.send(JSON.stringify({ action: 'ECHO', text: 'hi' }));
    await nextMessage(ws);
    ws.close(1000, 'bye');
    await waitFor(() => h.of('DISCONNECT').length === 1);

    const [connected, message, disconnected] = h.events.map((event) => parseAsAwsAndHandlers(AwsWebSocketRouteEvent, WebSocketRouteEvent, event));
    for (const event of [connected, message, disconnected]) {
      // Context values arrive as strings, as API Gateway passes them; the schema coerces deviceId back.
      expect(event!.requestContext.authorizer).toMatchObject({ userId: 'alice', deviceId: 1, principalId: 'alice' });
      expect(event!.requestContext.connectionId).toBe(connected!.requestContext.connectionId);
    }
    expect(h.events[1]!.requestContext.authorizer?.deviceId).toBe('1');
    expect(connected!.headers).toMatchObject({ Authorization: TOKEN, Host: expect.stringMatching(/^127\.0\.0\.1:/) });
    expect(message).toMatchObject({
      body: JSON.stringify({ action: 'ECHO', text: 'hi' }),
      isBase64Encoded: false,
      requestContext: { eventType: 'MESSAGE', routeKey: 'ECHO', messageId: expect.stringMatching(/=$/) },
    });
    expect(message!.headers).toBeUndefined();
    expect(disconnected).toMatchObject({
      headers: { 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' },
      requestContext: { eventType: 'DISCONNECT', routeKey: '$disconnect', disconnectStatusCode: 1000, disconnectReason: 'bye' },
    });
  });

  it('report a close frame without a status as 1005, in the words of API Gateway', async () => {
    const gateway = await h.start();
    const ws = await connect(gateway.url);
    ws.close();
    await waitFor(() => h.of('DISCONNECT').length === 1);
    expect(h.of('DISCONNECT')[0]!.requestContext).toMatchObject({
      disconnectStatusCode: 1005,
      disconnectReason: 'Client-side close frame status not set',
    });
  });
});

describe('WebSocket messages', () => {
  const h = harness();
  afterEach(() => h.stop());

  it('go to the route their action names, and to $default when not JSON, without an action or with an unknown one', async () => {
    const gateway = await h.start();
    const ws = await connect(gateway.url);
    const routeOf = async (frame: string) => {
      const reply = nextMessage(ws);
      ws.send(frame);
      return (JSON.parse(await reply) as { route: string }).route;
    };
    expect(await routeOf('{"action":"ECHO"}')).toBe('ECHO');
    expect(await routeOf('not json')).toBe('$default');
    expect(await routeOf('{"type":"SEND"}')).toBe('$default');
    expect(await routeOf('{"action":"NOPE"}')).toBe('$default');
    expect(await routeOf('{"action":"$connect"}')).toBe('$default');
    expect(await routeOf('["ECHO"]')).toBe('$default');
    ws.close();
  });

  it('answer only on two-way routes', async () => {
    const gateway = await h.start();
    const ws = await connect(gateway.url);
    const replies: string[] = [];
    ws.on('message', (data: Buffer) => replies.push(data.toString()));
    ws.send('{"action":"QUIET"}');
    ws.send('{"action":"ECHO"}');
    await waitFor(() => replies.length === 1 && h.of('MESSAGE').length === 2);
    expect(JSON.parse(replies[0]!)).toMatchObject({ route: 'ECHO' });
    ws.close();
  });

  it('get API Gateway\'s error frame when the integration fails', async () => {
    const gateway = await h.start({
      routes: {
        FAIL: async () => {
          throw new Error('boom');
        },
      },
    });
    const ws = await connect(gateway.url);
    const reply = nextMessage(ws);
    ws.send('{"action":"FAIL"}');
    const frame = JSON.parse(await reply) as Record<string, string>;
    expect(frame).toEqual({
      message: 'Internal server error',
      connectionId: gateway.connectionIds()[0],
      requestId: expect.stringMatching(/=$/),
    });
    ws.close();
  });

  it('answer up to one 128 KB message, and an error frame instead of a larger answer', async () => {
    const sized = (bytes: number) => async () => ({ statusCode: 200, body: 'x'.repeat(bytes) });
    const gateway = await h.start({ routes: { FITS: sized(128 * KB), TOO_BIG: sized(128 * KB + 1) } });
    const ws = await connect(gateway.url);
    let reply = nextMessage(ws);
    ws.send('{"action":"FITS"}');
    expect(await reply).toHaveLength(128 * KB);
    reply = nextMessage(ws);
    ws.send('{"action":"TOO_BIG"}');
    expect(JSON.parse(await reply)).toMatchObject({ message: 'Internal server error' });
    ws.close();
  });

  it('get API Gateway\'s timeout frame when the integration outlasts the integration timeout', async () => {
    const gateway = await h.start({
      limits: { integrationTimeoutMs: 50 },
      routes: { SLOW: () => new Promise((resolve) => setTimeout(() => resolve({ statusCode: 200, body: 'late' }), 200)) },
    });
    const ws = await connect(gateway.url);
    const reply = nextMessage(ws);
    ws.send('{"action":"SLOW"}');
    expect(JSON.parse(await reply)).toMatchObject({ message: 'Endpoint request timed out' });
    ws.close();
  });

  it('get the Forbidden frame when no route matches and there is no $default', async () => {
    const gateway = await h.start({ routes: { ECHO: h.record } });
    const ws = await connect(gateway.url);
    const reply = nextMessage(ws);
    ws.send('{"action":"NOPE"}');
    expect(JSON.parse(await reply)).toMatchObject({ message: 'Forbidden' });
    ws.close();
  });

  it('of one connection are handled concurrently, not one after another', async () => {
    let releaseFirst: () => void = () => undefined;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    const gateway = await h.start({
      routes: {
        FIRST: async () => {
          await firstHeld;
          return { statusCode: 200, body: 'first' };
        },
        SECOND: async () => {
          releaseFirst();
          return { statusCode: 200, body: 'second' };
        },
      },
      twoWay: () => true,
    });
    const ws = await connect(gateway.url);
    const replies: string[] = [];
    ws.on('message', (data: Buffer) => replies.push(data.toString()));
    ws.send('{"action":"FIRST"}');
    ws.send('{"action":"SECOND"}');
    // FIRST finishes only once SECOND has run: were messages queued per connection, neither would answer.
    await waitFor(() => replies.length === 2);
    expect(replies.sort()).toEqual(['first', 'second']);
    ws.close();
  });
});

describe('WebSocket limits', () => {
  const h = harness();
  afterEach(() => h.stop());

  it('close the connection with 1009 on a single frame over 32 KB, without delivering it', async () => {
    const gateway = await h.start();
    const ws = await connect(gateway.url);
    const closed = closeOf(ws);
    ws.send(JSON.stringify({ action: 'ECHO', pad: 'x'.repeat(33 * KB) }));
    expect((await closed).code).toBe(1009);
    await waitFor(() => h.of('DISCONNECT').length === 1);
    expect(h.of('MESSAGE')).toHaveLength(0);
    expect(h.of('DISCONNECT')[0]!.requestContext.disconnectStatusCode).toBe(1009);
  });

  it('accept a 100 KB message sent in 32 KB fragments', async () => {
    const gateway = await h.start();
    const ws = await connect(gateway.url);
    const message = Buffer.from(JSON.stringify({ action: 'ECHO', pad: 'x'.repeat(100 * KB - 30) }));
    const reply = nextMessage(ws);
    for (let offset = 0; offset < message.length; offset += 32 * KB) {
      const fin = offset + 32 * KB >= message.length;
      ws.send(message.subarray(offset, offset + 32 * KB), { fin, binary: false });
    }
    expect(JSON.parse(await reply)).toMatchObject({ route: 'ECHO' });
    expect(h.of('MESSAGE')[0]!.body).toBe(message.toString());
    ws.close();
  });

  it('close the connection with 1009 on a message over 128 KB, even in fragments', async () => {
    const gateway = await h.start();
    const ws = await connect(gateway.url);
    const closed = closeOf(ws);
    const fragment = Buffer.alloc(32 * KB, 'x');
    for (let sent = 0; sent < 129 * KB; sent += fragment.length) {
      ws.send(fragment, { fin: sent + fragment.length >= 129 * KB, binary: false });
    }
    expect((await closed).code).toBe(1009);
    await waitFor(() => h.of('DISCONNECT').length === 1);
    expect(h.of('MESSAGE')).toHaveLength(0);
  });

  it('close the connection with 1003 on a binary frame', async () => {
    const gateway = await h.start();
    const ws = await connect(gateway.url);
    const closed = closeOf(ws);
    ws.send(Buffer.from('{"action":"ECHO"}'), { binary: true });
    expect((await closed).code).toBe(1003);
    await waitFor(() => h.of('DISCONNECT').length === 1);
    expect(h.of('MESSAGE')).toHaveLength(0);
  });

  it('close an idle connection with 1001 and run $disconnect once; messages keep it alive', async () => {
    const gateway = await h.start({ limits: { idleTimeoutMs: 150 } });
    const ws = await connect(gateway.url);
    const closed = closeOf(ws);
    const openedAt = Date.now();
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 80));
      ws.send('{"action":"QUIET"}');
    }
    expect((await closed).code).toBe(1001);
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(240 + 150 - 20);
    await waitFor(() => h.of('DISCONNECT').length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(h.of('DISCONNECT')).toHaveLength(1);
    expect(h.of('DISCONNECT')[0]!.requestContext.disconnectStatusCode).toBe(1001);
  });

  it('close a connection at its maximum age with 1001 and run $disconnect once, however active it is', async () => {
    const gateway = await h.start({ limits: { maxConnectionMs: 200, idleTimeoutMs: 100 } });
    const ws = await connect(gateway.url);
    const closed = closeOf(ws);
    const keepAlive = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('{"action":"QUIET"}'), 30);
    expect((await closed).code).toBe(1001);
    clearInterval(keepAlive);
    await waitFor(() => h.of('DISCONNECT').length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(h.of('DISCONNECT')).toHaveLength(1);
  });
});

describe('the @connections API', () => {
  const h = harness();
  afterEach(() => h.stop());

  it('posts to, describes and deletes a connection through the real SDK client', async () => {
    const gateway = await h.start();
    const client = managementClient(gateway);
    const ws = await connect(gateway.url, { Authorization: TOKEN, 'User-Agent': 'parley-test' });
    const [connectionId] = gateway.connectionIds();

    const received = nextMessage(ws);
    await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: '{"type":"PUSH"}' }));
    expect(await received).toBe('{"type":"PUSH"}');

    const described = await client.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(described.ConnectedAt).toBeInstanceOf(Date);
    expect(described.LastActiveAt!.getTime()).toBeGreaterThanOrEqual(described.ConnectedAt!.getTime());
    expect(described.Identity).toEqual({ SourceIp: '127.0.0.1', UserAgent: 'parley-test' });

    const closed = closeOf(ws);
    await client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    expect((await closed).code).toBe(1000);
    await waitFor(() => h.of('DISCONNECT').length === 1);
    expect(h.of('DISCONNECT')[0]!.requestContext.disconnectStatusCode).toBe(1000);
    client.destroy();
  });

  it('delivers a 100 KB post to the client in frames of at most 32 KB', async () => {
    const gateway = await h.start();
    const client = managementClient(gateway);
    let socket: Socket | undefined;
    const capturingConnect = ((options: NetConnectOpts) => (socket = netConnect(options))) as typeof netConnect;
    const ws = await new Promise<WebSocket>((resolve) => {
      const opened = new WebSocket(gateway.url, { headers: { Authorization: TOKEN }, createConnection: capturingConnect });
      opened.once('open', () => resolve(opened));
    });
    // After the handshake the socket carries only frames: a 32 KB frame limit finds any larger one.
    const violations: FrameViolation[] = [];
    const inspector = new FrameInspector({ frameBytes: 32 * KB, messageBytes: Infinity }, (v) => violations.push(v));
    socket!.prependListener('data', (chunk: Buffer) => inspector.write(chunk));

    const received = nextMessage(ws);
    const data = 'y'.repeat(100 * KB);
    await client.send(new PostToConnectionCommand({ ConnectionId: gateway.connectionIds()[0], Data: data }));
    expect(await received).toBe(data);
    expect(violations).toEqual([]);
    ws.close();
    client.destroy();
  });

  it('answers GoneException for a closed or unknown connection, by name', async () => {
    const gateway = await h.start();
    const client = managementClient(gateway);
    const ws = await connect(gateway.url);
    const [connectionId] = gateway.connectionIds();
    ws.close();
    await waitFor(() => h.of('DISCONNECT').length === 1);

    for (const id of [connectionId, 'Zm9vYmFyYmF6cXV4=']) {
      const error = await sdkError(client.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'late' })));
      expect(error.name).toBe('GoneException');
      expect(error.$metadata?.httpStatusCode).toBe(410);
    }
    expect((await sdkError(client.send(new GetConnectionCommand({ ConnectionId: connectionId })))).name).toBe('GoneException');
    expect((await sdkError(client.send(new DeleteConnectionCommand({ ConnectionId: connectionId })))).name).toBe(
      'GoneException',
    );
    client.destroy();
  });

  it('answers PayloadTooLargeException for a post over 128 KB', async () => {
    const gateway = await h.start();
    const client = managementClient(gateway);
    const ws = await connect(gateway.url);
    const post = new PostToConnectionCommand({ ConnectionId: gateway.connectionIds()[0], Data: 'z'.repeat(129 * KB) });
    const error = await sdkError(client.send(post));
    expect(error.name).toBe('PayloadTooLargeException');
    expect(error.$metadata?.httpStatusCode).toBe(413);
    ws.close();
    client.destroy();
  });

  it('answers GoneException for a connection whose $connect is still running', async () => {
    let connectionId = '';
    let postResult: unknown;
    const gateway = await h.start({
      routes: {
        $connect: async (event) => {
          connectionId = event.requestContext.connectionId;
          const client = managementClient(gateway);
          postResult = await sdkError(client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'x' })));
          client.destroy();
          return { statusCode: 200 };
        },
      },
    });
    const ws = await connect(gateway.url);
    expect((postResult as Error).name).toBe('GoneException');
    expect(gateway.connectionIds()).toEqual([connectionId]);
    ws.close();
  });
});

describe('closing the gateway', () => {
  it('ends every connection with 1001 and runs $disconnect for each', async () => {
    const h = harness();
    const gateway = await h.start();
    const clients = [await connect(gateway.url), await connect(gateway.url)];
    const closes = clients.map(closeOf);
    await gateway.close();
    expect((await Promise.all(closes)).map((close) => close.code)).toEqual([1001, 1001]);
    expect(h.of('DISCONNECT')).toHaveLength(2);
  });
});
