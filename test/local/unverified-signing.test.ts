import { createServer, type IncomingHttpHeaders } from 'node:http';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createClients } from '../../lambdas/runtime/clients';
import { startAwsEmulators } from '../../local/aws-emulators';
import { InProcessRequestHandler } from '../../local/aws/in-process-handler';
import { unverifiedSigV4 } from '../../local/aws/unverified-signing';
import { waitUntil } from '../../local/aws/wait';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const SIGV4_HEADER = /^AWS4-HMAC-SHA256 Credential=local\/(\d{8})\/us-east-1\/dynamodb\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

/** Requests given in process to a server that keeps their headers and answers an empty GetItem. */
function capturing() {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((request, response) => {
    seen.push(request.headers);
    response.setHeader('content-type', 'application/x-amz-json-1.0');
    response.end('{}');
  });
  return { seen, handler: new InProcessRequestHandler(server) };
}

describe('unverified SigV4 (the in-process transport)', () => {
  it('writes the Authorization header of the SDK signer, credential scope and date alike, with the signature left zero', async () => {
    const signed = capturing();
    const stamped = capturing();
    const settings = { region: 'us-east-1', endpoints: { dynamodb: 'http://127.0.0.1:4567' }, credentials: { dynamodb: credentials } };
    const get = () => new GetCommand({ TableName: 't', Key: { id: 'a' } });
    await createClients({ ...settings, requestHandlers: { dynamodb: signed.handler } }).db.send(get());
    await createClients({ ...settings, requestHandlers: { dynamodb: stamped.handler }, authSchemes: { dynamodb: unverifiedSigV4 } }).db.send(get());

    const [sdk] = signed.seen;
    const [ours] = stamped.seen;
    const sdkHeader = SIGV4_HEADER.exec(sdk!.authorization!);
    const ourHeader = SIGV4_HEADER.exec(ours!.authorization!);
    expect(sdkHeader).not.toBeNull();
    expect(ourHeader).not.toBeNull();
    expect(ourHeader![1]).toBe(sdkHeader![1]);
    expect(ourHeader![3]).toBe('0'.repeat(64));
    expect(sdkHeader![3]).not.toBe('0'.repeat(64));
    expect(ours!['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(ours!['x-amz-date']!.slice(0, 8)).toBe(ourHeader![1]);
    // Everything but the signature's work is the SDK's, as signed: the operation and the body's type.
    expect(ours!['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
    expect(ours!['content-type']).toBe(sdk!['content-type']);
  });

  it('is accepted by the emulators, which check the header and not the signature', async () => {
    const emulators = await startAwsEmulators({ log: () => undefined });
    const clients = createClients({
      region: 'us-east-1',
      endpoints: emulators.endpoints,
      credentials: emulators.credentials,
      requestHandlers: emulators.requestHandlers,
      authSchemes: { dynamodb: unverifiedSigV4 },
    });
    try {
      await clients.db.send(
        new CreateTableCommand({
          TableName: 'stamped',
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      await waitUntil(
        () => clients.db.send(new PutCommand({ TableName: 'stamped', Item: { id: 'a', n: 1 } })).then(() => true, () => false),
        'the table to be ACTIVE',
      );
      expect((await clients.db.send(new GetCommand({ TableName: 'stamped', Key: { id: 'a' } }))).Item).toEqual({ id: 'a', n: 1 });
    } finally {
      clients.db.destroy();
      await emulators.stop();
    }
  });
});
