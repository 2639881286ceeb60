import { functions, type FunctionDefinition, type FunctionId, type StreamConsumerDefinition } from '../../lambdas/functions';
import type { ConsumerFunctionId } from '../../lib/functions';
import {
  actionsOf,
  eventSourceMappingOf,
  expectFailedRecordsQueue,
  type MappingProperties,
  logicalIdOf,
  logicalIdsWithAttribute,
  referencedLogicalIds,
  resourcesOf,
  statementsOfRole,
  synthParley,
  type Synthesized,
} from './fixture';

const consumers = (Object.entries(functions) as [FunctionId, FunctionDefinition][]).flatMap(([functionId, definition]) =>
  definition.consumes ? [[functionId as ConsumerFunctionId, definition.consumes] as const] : [],
) as [ConsumerFunctionId, StreamConsumerDefinition][];

describe('stream consumers', () => {
  let built: Synthesized;
  let mappings: Record<string, { Properties: MappingProperties }>;
  const mappingOf = (functionId: ConsumerFunctionId) => eventSourceMappingOf(built, functionId);

  beforeAll(() => {
    built = synthParley();
    mappings = resourcesOf<MappingProperties>(built.template, 'AWS::Lambda::EventSourceMapping');
  });

  it('are what the definitions declare: fanout consumes the messages stream', () => {
    expect(consumers.map(([functionId, definition]) => [functionId, definition.stream])).toContainEqual(['fanout', 'messages']);
  });

  it('are one enhanced fan-out consumer and one event source mapping from it per consuming function, and no more', () => {
    built.template.resourceCountIs('AWS::Kinesis::StreamConsumer', consumers.length);
    const fromConsumers = Object.values(mappings).filter(
      (m) => logicalIdsWithAttribute(m.Properties.EventSourceArn, 'ConsumerARN').size > 0,
    );
    expect(fromConsumers).toHaveLength(consumers.length);
    // Other mappings (tables' TTL deletions) and their queues are counted in functions.test.ts.
  });

  describe.each(consumers)('%s', (functionId, definition) => {
    it(`is an enhanced fan-out consumer of the ${definition.stream} stream`, () => {
      const consumer = built.stack.parley.handlers.streamConsumers[functionId].consumer;
      expect(resourcesOf(built.template, 'AWS::Kinesis::StreamConsumer')[logicalIdOf(consumer)]!.Properties).toEqual({
        ConsumerName: functionId,
        StreamARN: { 'Fn::GetAtt': [logicalIdOf(built.stack.parley.streams[definition.stream]), 'Arn'] },
      });
    });

    it('invokes the function from the consumer (pushed records, not polling), in order, with no batching wait', () => {
      expect(mappingOf(functionId)).toEqual({
        EventSourceArn: {
          'Fn::GetAtt': [logicalIdOf(built.stack.parley.handlers.streamConsumers[functionId].consumer), 'ConsumerARN'],
        },
        FunctionName: { Ref: logicalIdOf(built.stack.parley.functions[functionId]) },
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: definition.batchSize,
        MaximumBatchingWindowInSeconds: 0,
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: definition.retryAttempts,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ParallelizationFactor: 1,
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': [logicalIdOf(built.stack.parley.failedRecords[functionId]), 'Arn'] } },
        },
      });
    });

    it('sends the records it gives up on to an encrypted, TLS-only queue that keeps them 14 days', () => {
      expectFailedRecordsQueue(built, functionId);
    });

    it('lets the function subscribe through its consumer and send to its queue; no other function may', () => {
      const consumerLogicalId = logicalIdOf(built.stack.parley.handlers.streamConsumers[functionId].consumer);
      const queueLogicalId = logicalIdOf(built.stack.parley.failedRecords[functionId]);
      const actionsOn = (reader: FunctionId, logicalId: string) =>
        statementsOfRole(built.template, logicalIdOf(built.stack.parley.functions[reader].role!))
          .filter((statement) => referencedLogicalIds(statement.Resource).has(logicalId))
          .flatMap(actionsOf);

      expect(actionsOn(functionId, consumerLogicalId).sort()).toEqual(
        ['kinesis:DescribeStreamConsumer', 'kinesis:SubscribeToShard'].sort(),
      );
      expect(actionsOn(functionId, queueLogicalId)).toContain('sqs:SendMessage');
      for (const other of Object.keys(functions) as FunctionId[]) {
        if (other === functionId) continue;
        expect({ other, onConsumer: actionsOn(other, consumerLogicalId), onQueue: actionsOn(other, queueLogicalId) }).toEqual({
          other,
          onConsumer: [],
          onQueue: [],
        });
      }
    });

    it('deletes its queue with the stack under parley:removalPolicy destroy', () => {
      const destroyed = synthParley({ 'parley:removalPolicy': 'destroy' });
      destroyed.template.allResources('AWS::SQS::Queue', { DeletionPolicy: 'Delete' });
    });
  });
});
