import { request } from 'node:http';
import { HttpAuthorizerEvent, HttpEvent } from '../../lambdas/runtime/gateway-events';
import type { HttpAuthorizerEvent as HttpAuthorizerEventShape, HttpEvent as HttpEventShape } from '../../local/gateway-event-shapes';
import { AwsHttpAuthorizerEvent, AwsHttpEvent, parseAsAwsAndHandlers } from '../support/aws-event-schemas';
import {
  startHttpGateway,
  type HttpGateway,
  type HttpGatewayOptions,
  type HttpGatewayRoute,
  type HttpIntegrationResponse,
} from '../../local/http-gateway';

const TOKEN = 'Bearer device-token';

/** A gateway whose integrations record their events and answer with what the test sets. */
function harness() {
  const events: HttpEventShape[] = [];
  const authorizerEvents: HttpAuthorizerEventShape[] = [];
  let gateway: HttpGateway | undefined;
  const recording =
    (answer: HttpIntegrationResponse = { statusCode: 200, body: '{}' }) =>
    async (event: HttpEventShape) => {
      events.push(event);
      return answer;
    };
  const route = (method: HttpGatewayRoute['method'], path: string, authorized = false, invoke = recording()) => ({
    method,
    path,
    authorized,
    invoke,
  });
  const start = async (overrides: Partial<HttpGatewayOptions> = {}) => {
    events.length = 0;
    authorizerEvents.length = 0;
    gateway = await startHttpGateway({
      routes: [
        route('POST', '/v1/accounts'),
        route('DELETE', '/v1/devices/{deviceId}', true),
        route('POST', '/v1/devices/link'),
        route('POST', '/v1/devices/{deviceId}'),
        route('GET', '/v1/devices', true),
      ],
      authorizer: {
        identityHeader: 'Authorization',
        invoke: async (event) => {
          authorizerEvents.push(event);
          return { isAuthorized: true, context: { userId: 'alice', deviceId: 1 } };
        },
      },
      ...overrides,
    });
    return gateway;
  };
  return { events, authorizerEvents, start, route, recording, stop: () => gateway?.close() };
}

const h = harness();
afterEach(() => h.stop());

describe('the HTTP gateway', () => {
  it('sends integrations payload format 2.0 events that parse with HttpEvent', async () => {
    const gateway = await h.start({ apiId: 'abcdef1234', accountId: '123456789012' });
    const response = await fetch(`${gateway.url}/v1/accounts?lang=en&tag=a&tag=b`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Client': 'one', Cookie: 'a=1; b=2', 'User-Agent': 'parley-test' },
      body: '{"phone":"+15550100"}',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('apigw-requestid')).toMatch(/=$/);

    const event = parseAsAwsAndHandlers(AwsHttpEvent, HttpEvent, h.events[0]);
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /v1/accounts',
      rawPath: '/v1/accounts',
      rawQueryString: 'lang=en&tag=a&tag=b',
      cookies: ['a=1', 'b=2'],
      queryStringParameters: { lang: 'en', tag: 'a,b' },
      body: '{"phone":"+15550100"}',
      isBase64Encoded: false,
      requestContext: {
        accountId: '123456789012',
        apiId: 'abcdef1234',
        stage: '$default',
        routeKey: 'POST /v1/accounts',
        requestId: response.headers.get('apigw-requestid'),
        http: { method: 'POST', path: '/v1/accounts', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'parley-test' },
      },
    });
    expect(event.headers).toMatchObject({ 'content-type': 'application/json', 'x-client': 'one', 'x-forwarded-for': '127.0.0.1' });
    expect(event.headers?.cookie).toBeUndefined();
    expect(event.pathParameters).toBeUndefined();
    expect(event.requestContext.authorizer).toBeUndefined();
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  });

  it('joins repeated headers with commas under lower-case names', async () => {
    const gateway = await h.start();
    // fetch would merge the repeated header itself; a raw request sends it twice, as some clients do. Raw
    // headers come without the Host header Node otherwise adds.
    const url = new URL(`${gateway.url}/v1/accounts`);
    const headers = ['Host', url.host, 'X-Trace', 'one', 'x-trace', 'two'];
    await new Promise<void>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers });
      req.on('response', (res) => res.resume().on('end', resolve)).on('error', reject).end();
    });
    expect(h.events[0]!.headers['x-trace']).toBe('one,two');
  });

  it('base64-encodes bodies that are not text', async () => {
    const gateway = await h.start();
    const bytes = Buffer.from([0, 1, 2, 250]);
    await fetch(`${gateway.url}/v1/accounts`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: bytes });
    expect(h.events[0]).toMatchObject({ body: bytes.toString('base64'), isBase64Encoded: true });
  });

  it('passes path parameters, preferring a literal segment over a parameter', async () => {
    const gateway = await h.start();
    await fetch(`${gateway.url}/v1/devices/42`, { method: 'POST' });
    await fetch(`${gateway.url}/v1/devices/link`, { method: 'POST' });
    expect(h.events.map((event) => [event.routeKey, event.pathParameters])).toEqual([
      ['POST /v1/devices/{deviceId}', { deviceId: '42' }],
      ['POST /v1/devices/link', undefined],
    ]);
  });

  it('answers 404 Not Found when no route matches the method and path', async () => {
    const gateway = await h.start();
    for (const [method, path] of [
      ['GET', '/v1/nowhere'],
      ['PUT', '/v1/accounts'],
      ['POST', '/v1/devices/1/extra'],
    ] as const) {
      const response = await fetch(`${gateway.url}${path}`, { method });
      expect([response.status, await response.json()]).toEqual([404, { message: 'Not Found' }]);
    }
    expect(h.events).toHaveLength(0);
  });

  it('maps the integration response: status, headers, cookies and a base64 body', async () => {
    const gateway = await h.start({
      routes: [
        h.route('GET', '/file', false, async () => ({
          statusCode: 201,
          headers: { 'Content-Type': 'image/png', 'X-Extra': 'yes' },
          cookies: ['session=1; HttpOnly', 'theme=dark'],
          body: Buffer.from([137, 80, 78, 71]).toString('base64'),
          isBase64Encoded: true,
        })),
        h.route('GET', '/plain', false, (async () => ({ hello: 'world' })) as unknown as HttpGatewayRoute['invoke']),
      ],
    });
    const file = await fetch(`${gateway.url}/file`);
    expect(file.status).toBe(201);
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(file.headers.get('x-extra')).toBe('yes');
    expect(file.headers.getSetCookie()).toEqual(['session=1; HttpOnly', 'theme=dark']);
    expect(Buffer.from(await file.arrayBuffer())).toEqual(Buffer.from([137, 80, 78, 71]));

    const plain = await fetch(`${gateway.url}/plain`);
    expect([plain.status, plain.headers.get('content-type'), await plain.json()]).toEqual([
      200,
      'application/json',
      { hello: 'world' },
    ]);
  });

  it('answers 500 Internal Server Error when the integration fails, and 503 when it times out', async () => {
    const gateway = await h.start({
      integrationTimeoutMs: 50,
      routes: [
        h.route('GET', '/fail', false, async () => {
          throw new Error('boom');
        }),
        h.route('GET', '/slow', false, () => new Promise((resolve) => setTimeout(() => resolve({ statusCode: 200 }), 200))),
      ],
    });
    const failed = await fetch(`${gateway.url}/fail`);
    expect([failed.status, await failed.json()]).toEqual([500, { message: 'Internal Server Error' }]);
    const slow = await fetch(`${gateway.url}/slow`);
    expect([slow.status, await slow.json()]).toEqual([503, { message: 'Service Unavailable' }]);
  });

  it('answers 413 to a request body over 10 MB', async () => {
    const gateway = await h.start();
    const response = await fetch(`${gateway.url}/v1/accounts`, { method: 'POST', body: Buffer.alloc(10 * 1024 * 1024 + 1) });
    expect(response.status).toBe(413);
    expect(h.events).toHaveLength(0);
  });
});

describe('the HTTP authorizer', () => {
  it('passes its context to authorized routes as requestContext.authorizer.lambda', async () => {
    const gateway = await h.start();
    const response = await fetch(`${gateway.url}/v1/devices/2?force=1`, { method: 'DELETE', headers: { Authorization: TOKEN } });
    expect(response.status).toBe(200);
    const event = parseAsAwsAndHandlers(AwsHttpEvent, HttpEvent, h.events[0]);
    expect(event.pathParameters).toEqual({ deviceId: '2' });
    expect(event.requestContext.authorizer).toEqual({ lambda: { userId: 'alice', deviceId: 1 } });
  });

  it('is sent a REQUEST event that parses with HttpAuthorizerEvent', async () => {
    const gateway = await h.start({ apiId: 'abcdef1234', accountId: '123456789012', region: 'eu-west-1' });
    await fetch(`${gateway.url}/v1/devices/2`, { method: 'DELETE', headers: { Authorization: TOKEN } });
    expect(parseAsAwsAndHandlers(AwsHttpAuthorizerEvent, HttpAuthorizerEvent, h.authorizerEvents[0])).toMatchObject({
      version: '2.0',
      type: 'REQUEST',
      routeArn: 'arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/$default/DELETE/v1/devices/2',
      identitySource: [TOKEN],
      routeKey: 'DELETE /v1/devices/{deviceId}',
      pathParameters: { deviceId: '2' },
      headers: { authorization: TOKEN },
    });
  });

  it('is not invoked for a request without the identity header, which gets 401', async () => {
    const gateway = await h.start();
    const response = await fetch(`${gateway.url}/v1/devices`);
    expect([response.status, await response.json()]).toEqual([401, { message: 'Unauthorized' }]);
    expect(h.authorizerEvents).toHaveLength(0);
    expect(h.events).toHaveLength(0);
  });

  it('refuses with 403 Forbidden when it answers isAuthorized false, and with 500 when it fails', async () => {
    let answer = async () => ({ isAuthorized: false });
    const gateway = await h.start({ authorizer: { identityHeader: 'Authorization', invoke: () => answer() } });
    const denied = await fetch(`${gateway.url}/v1/devices`, { headers: { Authorization: TOKEN } });
    expect([denied.status, await denied.json()]).toEqual([403, { message: 'Forbidden' }]);
    answer = async () => {
      throw new Error('table unavailable');
    };
    const failed = await fetch(`${gateway.url}/v1/devices`, { headers: { Authorization: TOKEN } });
    expect([failed.status, await failed.json()]).toEqual([500, { message: 'Internal Server Error' }]);
    expect(h.events).toHaveLength(0);
  });

  it('is not invoked for public routes', async () => {
    const gateway = await h.start();
    await fetch(`${gateway.url}/v1/accounts`, { method: 'POST', headers: { Authorization: TOKEN } });
    expect(h.authorizerEvents).toHaveLength(0);
    expect(h.events).toHaveLength(1);
  });
});
