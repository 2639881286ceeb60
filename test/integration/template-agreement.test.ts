/**
 * The CDK stack and the local runtime are built from the same definitions; this proves they agree where
 * it matters: tables and their keys and TTL, the stream, the routes that answer, and each function's
 * environment.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import type { Template } from 'aws-cdk-lib/assertions';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { LOG_LEVEL_ENV } from '../../lib/functions';
import type { ParleyStack } from '../../lib/parley-stack';
import { functions, type FunctionId } from '../../lambdas/functions';
import { tables, type TableId } from '../../lambdas/resources';
import { logicalIdOf, synthParley } from '../cdk/fixture';
import { call, connectDevice, registerAccount } from '../support/device-client';

let parley: ParleyLocal;
let template: Template;
let stack: ParleyStack;

beforeAll(async () => {
  ({ template, stack } = synthParley());
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0 });
});
afterAll(async () => {
  await parley?.stop();
});

const resourceOf = (logicalId: string) => template.toJSON().Resources[logicalId] as { Properties: any };
const sortByName = <T extends { AttributeName?: string }>(list: T[]) => [...list].sort((a, b) => String(a.AttributeName).localeCompare(String(b.AttributeName)));

describe('template and local runtime', () => {
  it.each(Object.keys(tables) as TableId[])('give table %s the same keys and TTL attribute', async (tableId) => {
    const deployed = resourceOf(logicalIdOf(stack.parley.tables[tableId])).Properties;
    const local = (await (parley.clients.db as unknown as DynamoDBClient).send(new DescribeTableCommand({ TableName: parley.resources.tables[tableId] }))).Table!;
    expect(local.KeySchema).toEqual(deployed.KeySchema);
    expect(sortByName(local.AttributeDefinitions!)).toEqual(sortByName(deployed.AttributeDefinitions));
    const sweptAttribute = parley.expiringTables.find((table) => table.tableId === tableId)?.ttlAttribute;
    expect(sweptAttribute).toBe(deployed.TimeToLiveSpecification?.AttributeName);
  });

  it('both have the message stream and the media bucket', async () => {
    template.resourceCountIs('AWS::Kinesis::Stream', Object.keys(parley.resources.streams).length);
    template.resourceCountIs('AWS::S3::Bucket', Object.keys(parley.resources.buckets).length);
    for (const name of Object.values(parley.resources.streams)) {
      const { StreamDescriptionSummary } = await parley.clients.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
      expect(StreamDescriptionSummary?.StreamStatus).toBe('ACTIVE');
    }
    for (const name of Object.values(parley.resources.buckets)) await parley.clients.s3.send(new HeadBucketCommand({ Bucket: name }));
  });

  it('give every function the same environment variables', () => {
    for (const id of Object.keys(functions) as FunctionId[]) {
      const deployed = Object.keys(resourceOf(logicalIdOf(stack.parley.functions[id])).Properties.Environment.Variables)
        .filter((name) => name !== LOG_LEVEL_ENV)
        .sort();
      expect({ id, variables: Object.keys(parley.environments[id]).sort() }).toEqual({ id, variables: deployed });
    }
  });

  it('answer every WebSocket route key the template has, locally too', async () => {
    const routeKeys = Object.values(template.findResources('AWS::ApiGatewayV2::Route'))
      .filter((route: any) => route.Properties.ApiId.Ref === logicalIdOf(stack.parley.webSocketApi))
      .map((route: any) => route.Properties.RouteKey as string);
    expect(routeKeys).toEqual(expect.arrayContaining(['$connect', '$disconnect', '$default']));
    const socket = await connectDevice(parley, await registerAccount(parley, '+14155550100'));
    for (const action of routeKeys.filter((key) => !key.startsWith('$'))) {
      socket.send({ action, requestId: action });
      const answer = await socket.next((frame) => frame.requestId === action);
      expect(answer.code).not.toBe('UNKNOWN_ACTION');
    }
    await socket.close();
  });

  it('serve every HTTP route the template has, locally too', async () => {
    const routeKeys = Object.values(template.findResources('AWS::ApiGatewayV2::Route'))
      .filter((route: any) => route.Properties.ApiId.Ref === logicalIdOf(stack.parley.httpApi))
      .map((route: any) => route.Properties.RouteKey as string);
    expect(routeKeys.length).toBeGreaterThan(0);
    for (const routeKey of routeKeys) {
      const [method, path] = routeKey.split(' ') as [string, string];
      const answer = await call(parley, method, path.replace(/\{[^}]+\}/g, '2'), { body: method === 'GET' || method === 'DELETE' ? undefined : {} });
      // The local gateway answers an unrouted request with API Gateway's {"message":"Not Found"}.
      expect({ routeKey, body: answer.body }).not.toEqual({ routeKey, body: { message: 'Not Found' } });
    }
  });
});
