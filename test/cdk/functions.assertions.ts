import { functions, type FunctionDefinition, type FunctionId, type PushEndpointAccess, type TableAccess } from '../../lambdas/functions';
import { buckets, env, streams, tables, type TableId } from '../../lambdas/resources';
import { DEFAULT_SMS_LIMITS } from '../../lambdas/accounts/constants';
import type { ExpiryFunctionId } from '../../lib/functions';
import { memorySizeOf } from '../../lib/memory-sizes';
import {
  actionsOf,
  logicalIdOf,
  logicalIdsWithAttribute,
  referencedLogicalIds,
  resourcesOf,
  statementsOfRole,
  synthParley,
  type Statement,
  type Synthesized,
} from './fixture';

const definitions = Object.entries(functions) as [FunctionId, FunctionDefinition][];

const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'];
const STREAM_READ_ACTIONS = ['kinesis:SubscribeToShard', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:DescribeStreamConsumer'];
const TABLE_STREAM_READ_ACTIONS = ['dynamodb:ListStreams', 'dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'];
/** Statements on a table's DynamoDB stream (`Fn::GetAtt [table, StreamArn]`) rather than on the table. */
const onTableStream = (statement: Statement) => logicalIdsWithAttribute(statement.Resource, 'StreamArn').size > 0;

describe('functions', () => {
  let built: Synthesized;
  let resources: Record<string, { Type: string; Properties: Record<string, any> }>;
  const functionResource = (functionId: FunctionId) =>
    resources[logicalIdOf(built.stack.parley.functions[functionId])]!;
  const statementsOf = (functionId: FunctionId): Statement[] =>
    statementsOfRole(built.template, logicalIdOf(built.stack.parley.functions[functionId].role!));

  beforeAll(() => {
    built = synthParley();
    resources = built.template.toJSON().Resources;
  });

  it('are exactly one Lambda function per definition', () => {
    built.template.resourceCountIs('AWS::Lambda::Function', definitions.length);
  });

  it('are invoked by one event source mapping per consumed stream and per onExpiry table, each with its on-failure destination', () => {
    const expiries = definitions.filter(([, d]) => d.onExpiry).length;
    const sources = definitions.filter(([, d]) => d.consumes).length + expiries;
    built.template.resourceCountIs('AWS::Lambda::EventSourceMapping', sources);
    // Stream consumers write failed batches to a bucket (storage.test.ts); expiry consumers describe them in a queue.
    built.template.resourceCountIs('AWS::SQS::Queue', expiries);
    const destinations = Object.values(resourcesOf(built.template, 'AWS::Lambda::EventSourceMapping')).map((mapping) =>
      JSON.stringify((mapping.Properties as { DestinationConfig?: unknown }).DestinationConfig),
    );
    // Every expiry consumer has a queue of its own; the stream consumers share the bucket they declare.
    const failedBatchBuckets = new Set(definitions.flatMap(([, d]) => (d.consumes ? [d.consumes.failedBatchesTo] : []))).size;
    expect(destinations.every((destination) => destination !== undefined)).toBe(true);
    expect(new Set(destinations).size).toBe(expiries + failedBatchBuckets);
  });

  describe.each(definitions)('%s', (functionId, definition) => {
    it('runs on Node.js 24, ARM64, with active tracing and its default memory', () => {
      expect(functionResource(functionId).Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        MemorySize: memorySizeOf(functionId, {}),
        Handler: 'index.handler',
      });
    });

    it('logs to its own log group, which keeps events for a month', () => {
      const logGroupId = [...referencedLogicalIds(functionResource(functionId).Properties.LoggingConfig)];
      expect(logGroupId).toEqual([logicalIdOf(built.stack.parley.handlers.logGroups[functionId])]);
      expect(resources[logGroupId[0]!]!.Properties.RetentionInDays).toBe(30);
    });

    it('has exactly the environment variables its definition implies', () => {
      const variables: Record<string, unknown> = functionResource(functionId).Properties.Environment.Variables;
      const expected: Record<string, unknown> = {
        [env.serviceName]: 'parley',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        POWERTOOLS_METRICS_NAMESPACE: 'Parley/Parley',
      };
      for (const tableId of Object.keys(definition.tables ?? {}) as TableId[]) {
        expected[tables[tableId].envVar] = { Ref: logicalIdOf(built.stack.parley.tables[tableId]) };
      }
      for (const streamId of definition.putsTo ?? []) {
        expected[streams[streamId].envVar] = { Ref: logicalIdOf(built.stack.parley.streams[streamId]) };
      }
      // Push is off in this stack: functions that handle push endpoints learn that there are no applications.
      if (definition.pushEndpoints?.length) expected[env.pushPlatformApplications] = '{}';
      if (definition.sendsSms) expected[env.smsLimits] = JSON.stringify(DEFAULT_SMS_LIMITS);
      for (const bucketId of definition.uploadsTo ?? []) {
        expected[buckets[bucketId].envVar] = { Ref: logicalIdOf(built.stack.parley.buckets[bucketId]) };
      }
      if (definition.manageConnections) expect(variables[env.connectionsEndpoint]).toBeDefined();
      const { [env.connectionsEndpoint]: connectionsEndpoint, ...rest } = variables;
      expect(rest).toEqual(expected);
      if (definition.manageConnections) {
        const url = JSON.stringify(connectionsEndpoint);
        expect(url).toContain('"https://"');
        expect(url).toContain('"/prod"');
        expect(referencedLogicalIds(connectionsEndpoint)).toEqual(
          new Set([logicalIdOf(built.stack.parley.webSocketApi)]),
        );
      } else {
        expect(connectionsEndpoint).toBeUndefined();
      }
    });

    it('reaches exactly the tables it declares, reading or writing as declared', () => {
      const tableIds = Object.fromEntries(
        (Object.keys(tables) as TableId[]).map((tableId) => [logicalIdOf(built.stack.parley.tables[tableId]), tableId]),
      );
      const reached: Partial<Record<TableId, Set<string>>> = {};
      // Reading a table's stream is not access to its items: the stream test below covers it.
      for (const statement of statementsOf(functionId).filter((s) => !onTableStream(s))) {
        for (const logicalId of referencedLogicalIds(statement.Resource)) {
          const tableId = tableIds[logicalId];
          if (!tableId) continue;
          actionsOf(statement).forEach((action) => (reached[tableId] ??= new Set()).add(action));
        }
      }
      const access: Record<string, TableAccess | 'partly writes'> = {};
      for (const [tableId, actions] of Object.entries(reached)) {
        expect({ tableId, missingReads: READ_ACTIONS.filter((a) => !actions.has(a)) }).toEqual({ tableId, missingReads: [] });
        const writes = WRITE_ACTIONS.filter((action) => actions.has(action)).length;
        access[tableId] = writes === 0 ? 'read' : writes === WRITE_ACTIONS.length ? 'readWrite' : 'partly writes';
      }
      expect(access).toEqual(definition.tables ?? {});
    });

    it('uses no DynamoDB action on any resource but its tables', () => {
      const tableLogicalIds = new Set(Object.values(built.stack.parley.tables).map(logicalIdOf));
      for (const statement of statementsOf(functionId)) {
        if (!actionsOf(statement).some((action) => action.startsWith('dynamodb:'))) continue;
        for (const logicalId of referencedLogicalIds(statement.Resource)) expect(tableLogicalIds).toContain(logicalId);
        expect(JSON.stringify(statement.Resource)).not.toBe('"*"');
      }
    });

    it(
      definition.manageConnections
        ? 'may manage connections of the WebSocket stage, and of that stage only'
        : 'may not manage WebSocket connections',
      () => {
        const statements = statementsOf(functionId).filter((s) => actionsOf(s).includes('execute-api:ManageConnections'));
        if (!definition.manageConnections) {
          expect(statements).toEqual([]);
          return;
        }
        expect(statements).toHaveLength(1);
        const resource = statements[0]!.Resource;
        expect(referencedLogicalIds(resource)).toEqual(new Set([logicalIdOf(built.stack.parley.webSocketApi)]));
        expect(JSON.stringify(resource)).toContain('/prod/*/@connections/*');
      },
    );

    it(
      definition.sendsSms
        ? 'may publish SMS to phone numbers, is denied every topic and endpoint, and does nothing else with SNS'
        : 'may not use SNS (push is off)',
      () => {
        // Only the SNS actions of each statement: with @aws-cdk/aws-iam:minimizePolicies, CDK merges
        // statements of one resource, so sns:Publish on * shares a statement with X-Ray's actions on *.
        const onSns = statementsOf(functionId)
          .map((statement) => ({ ...statement, Action: actionsOf(statement).filter((action) => action.startsWith('sns:')) }))
          .filter((statement) => statement.Action.length > 0);
        expect(onSns.map(({ Effect, Action, Resource }) => ({ Effect, Action, Resource }))).toEqual(
          definition.sendsSms
            ? [
                { Effect: 'Allow', Action: ['sns:Publish'], Resource: '*' },
                { Effect: 'Deny', Action: ['sns:Publish'], Resource: 'arn:*:sns:*:*:*' },
              ]
            : [],
        );
      },
    );

    it(`may put records on exactly the streams it declares (${(definition.putsTo ?? []).join(', ') || 'none'})`, () => {
      const streamLogicalIds = Object.fromEntries(
        Object.entries(built.stack.parley.streams).map(([streamId, stream]) => [logicalIdOf(stream), streamId]),
      );
      const reached = new Set(
        statementsOf(functionId)
          .filter((s) => actionsOf(s).some((action) => action.startsWith('kinesis:Put')))
          .flatMap((s) => [...referencedLogicalIds(s.Resource)].map((id) => streamLogicalIds[id])),
      );
      expect([...reached].sort()).toEqual([...(definition.putsTo ?? [])].sort());
    });

    it('writes logs to its own log group only, and asks for nothing beyond its declared access', () => {
      const allowedServices = new Set(['xray', 'logs', 'dynamodb', 'kinesis', 'execute-api', 'sns']);
      // An expiry consumer sends the records it gave up on to its own on-failure queue; a stream consumer
      // writes them to its failed-batches bucket.
      if (definition.onExpiry) allowedServices.add('sqs');
      // A stream consumer writes the batches it gave up on to its failed-batches bucket; a media function
      // presigns URLs for its bucket.
      if (definition.consumes || definition.uploadsTo?.length) allowedServices.add('s3');
      const ownLogGroup = logicalIdOf(built.stack.parley.handlers.logGroups[functionId]);
      const ownFailedRecords = definition.onExpiry ? logicalIdOf(built.stack.parley.failedRecords[functionId as ExpiryFunctionId]) : undefined;
      const ownBuckets = new Set([
        ...(definition.consumes ? [logicalIdOf(built.stack.parley.buckets[definition.consumes.failedBatchesTo])] : []),
        ...(definition.uploadsTo ?? []).map((bucketId) => logicalIdOf(built.stack.parley.buckets[bucketId])),
      ]);
      // The one deny is the SMS sender's, checked above.
      for (const statement of statementsOf(functionId).filter((s) => s.Effect !== 'Deny' || !definition.sendsSms)) {
        expect(statement.Effect).toBe('Allow');
        for (const action of actionsOf(statement)) {
          expect(allowedServices).toContain(action.split(':')[0]);
          expect(action).not.toContain('*');
          if (action.startsWith('logs:')) expect(referencedLogicalIds(statement.Resource)).toEqual(new Set([ownLogGroup]));
          if (action.startsWith('sqs:')) expect(referencedLogicalIds(statement.Resource)).toEqual(new Set([ownFailedRecords]));
          if (action.startsWith('s3:')) for (const id of referencedLogicalIds(statement.Resource)) expect(ownBuckets).toContain(id);
        }
      }
    });

    it(
      definition.consumes
        ? `reads the ${definition.consumes.stream} stream through its own enhanced fan-out consumer, and no other`
        : 'may not read any stream',
      () => {
        const consumers = Object.fromEntries(
          Object.entries(built.stack.parley.handlers.streamConsumers).map(([consumerId, consumer]) => [
            logicalIdOf(consumer.consumer),
            consumerId,
          ]),
        );
        const streamIds = Object.fromEntries(
          Object.entries(built.stack.parley.streams).map(([streamId, stream]) => [logicalIdOf(stream), streamId]),
        );
        const reading = statementsOf(functionId).filter((s) =>
          actionsOf(s).some((action) => STREAM_READ_ACTIONS.includes(action)),
        );
        const consumersRead = reading.flatMap((s) => [...referencedLogicalIds(s.Resource)].filter((id) => id in consumers));
        const streamsRead = reading.flatMap((s) => [...referencedLogicalIds(s.Resource)].filter((id) => id in streamIds));
        if (!definition.consumes) {
          expect({ consumersRead, streamsRead }).toEqual({ consumersRead: [], streamsRead: [] });
          return;
        }
        expect(new Set(consumersRead.map((id) => consumers[id]))).toEqual(new Set([functionId]));
        expect(new Set(streamsRead.map((id) => streamIds[id]))).toEqual(new Set([definition.consumes.stream]));
        const onConsumer = reading
          .filter((s) => [...referencedLogicalIds(s.Resource)].some((id) => id in consumers))
          .flatMap(actionsOf);
        expect(onConsumer).toEqual(expect.arrayContaining(['kinesis:SubscribeToShard', 'kinesis:DescribeStreamConsumer']));
      },
    );

    it(
      definition.onExpiry
        ? `reads the DynamoDB stream of its onExpiry table (${definition.onExpiry}), and of no other table`
        : 'may not read any table’s DynamoDB stream',
      () => {
        const tableIds = Object.fromEntries(
          Object.entries(built.stack.parley.tables).map(([tableId, table]) => [logicalIdOf(table), tableId]),
        );
        const onStreams = statementsOf(functionId).filter(onTableStream);
        const streamsRead = new Set(
          onStreams.flatMap((s) => [...logicalIdsWithAttribute(s.Resource, 'StreamArn')].map((id) => tableIds[id])),
        );
        expect([...streamsRead]).toEqual(definition.onExpiry ? [definition.onExpiry] : []);
        // Nothing but reading the stream, and nothing on any resource but the stream.
        expect(onStreams.flatMap(actionsOf).sort()).toEqual(definition.onExpiry ? [...TABLE_STREAM_READ_ACTIONS].sort() : []);
        for (const statement of onStreams) {
          expect(JSON.stringify(statement.Resource)).not.toMatch(/"Arn"|"\*"/);
        }
      },
    );
  });

  it('attach no AWS managed policy to their roles', () => {
    for (const fn of Object.values(built.stack.parley.functions)) {
      expect(resources[logicalIdOf(fn.role!)]!.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('functions with push platform applications', () => {
  const applications = {
    apns: 'arn:aws:sns:eu-west-1:123456789012:app/APNS/Parley',
    fcm: 'arn:aws:sns:eu-west-1:123456789012:app/GCM/Parley',
  };
  const endpoints = ['arn:aws:sns:eu-west-1:123456789012:endpoint/APNS/Parley/*', 'arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/Parley/*'];
  const ACTIONS_ON_ENDPOINTS: Record<PushEndpointAccess, string[]> = {
    register: ['sns:SetEndpointAttributes'],
    publish: ['sns:Publish'],
    delete: ['sns:GetEndpointAttributes', 'sns:DeleteEndpoint'],
  };
  let built: Synthesized;

  beforeAll(() => {
    built = synthParley({ 'parley:pushPlatformApplications': JSON.stringify(applications) });
  });

  const pushStatementsOf = (functionId: FunctionId) =>
    statementsOfRole(built.template, logicalIdOf(built.stack.parley.functions[functionId].role!)).filter((statement) =>
      // Allowed statements: the SMS sender's deny of every SNS ARN is no grant on push endpoints.
      statement.Effect === 'Allow' && actionsOf(statement).some((action) => action.startsWith('sns:') && statement.Resource !== '*'),
    );

  describe.each(definitions)('%s', (functionId, definition) => {
    const access = definition.pushEndpoints ?? [];

    it(access.length ? `is told the applications (${access.join(', ')})` : 'is not told the applications', () => {
      const variables = (built.template.toJSON().Resources[logicalIdOf(built.stack.parley.functions[functionId])] as any).Properties
        .Environment.Variables;
      expect(variables[env.pushPlatformApplications]).toEqual(access.length ? JSON.stringify(applications) : undefined);
    });

    it(
      access.length ? `may ${access.join(' and ')} endpoints of those applications, and nothing else` : 'may do nothing with push endpoints',
      () => {
        const granted = pushStatementsOf(functionId).map((statement) => ({
          actions: actionsOf(statement).sort(),
          resources: ([] as unknown[]).concat(statement.Resource).sort(),
        }));
        const expected = [];
        if (access.includes('register')) {
          expected.push({ actions: ['sns:CreatePlatformEndpoint'], resources: Object.values(applications).sort() });
        }
        if (access.length) expected.push({ actions: access.flatMap((kind) => ACTIONS_ON_ENDPOINTS[kind]).sort(), resources: endpoints });
        expect(granted).toEqual(expected);
      },
    );
  });

  it('refuses an ARN that is not an application of its platform, and an unknown platform', () => {
    expect(() => synthParley({ 'parley:pushPlatformApplications': { apns: applications.fcm } })).toThrow(/apns push platform application/);
    expect(() => synthParley({ 'parley:pushPlatformApplications': { apns: 'arn:aws:sns:eu-west-1:123456789012:my-topic' } })).toThrow(
      /apns push platform application/,
    );
    expect(() => synthParley({ 'parley:pushPlatformApplications': { wns: applications.fcm } })).toThrow(/Unknown push platform "wns"/);
  });
});
