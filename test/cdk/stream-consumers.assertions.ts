import { functions, type FunctionDefinition, type FunctionId, type StreamConsumerDefinition } from '../../lambdas/functions';
import type { ConsumerFunctionId } from '../../lib/functions';
import { STACK_OUTPUTS } from '../../lib/stack-outputs';
import {
  actionsOf,
  eventSourceMappingOf,
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

  it('are what the definitions declare: fanout consumes the 1:1 messages stream, groupFanout the groups\' stream', () => {
    const streamsConsumed = consumers.map(([functionId, definition]) => [functionId, definition.stream]);
    expect(streamsConsumed).toContainEqual(['fanout', 'messages']);
    expect(streamsConsumed).toContainEqual(['groupFanout', 'groupMessages']);
  });

  it('consume the two message streams the same way', () => {
    const { stream: _messages, ...fanout } = functions.fanout.consumes;
    const { stream: _groupMessages, ...groupFanout } = functions.groupFanout.consumes;
    expect(groupFanout).toEqual(fanout);
    expect(mappingOf('groupFanout')).toEqual({ ...mappingOf('fanout'), EventSourceArn: expect.anything(), FunctionName: expect.anything() });
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

    it('invokes the function from the consumer (pushed records, not polling), in order per conversation, with no batching wait', () => {
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
        ParallelizationFactor: definition.parallelizationFactor,
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': [logicalIdOf(built.stack.parley.buckets[definition.failedBatchesTo]), 'Arn'] } },
        },
      });
    });

    it('runs several batches of a shard at once, so a slow conversation holds up few others', () => {
      // Order per conversation is Lambda's to keep (per partition key); more than 10 is refused by Lambda.
      expect(definition.parallelizationFactor).toBeGreaterThan(1);
      expect(definition.parallelizationFactor).toBeLessThanOrEqual(10);
      expect(mappingOf(functionId).ParallelizationFactor).toBe(definition.parallelizationFactor);
    });

    it(`writes the batches it gives up on, records and all, to the ${definition.failedBatchesTo} bucket`, () => {
      expect(definition.failedBatchesTo).toBe('failedDeliveries');
      expect(built.stack.parley.failedDeliveries).toBe(built.stack.parley.buckets.failedDeliveries);
    });

    it('names the failed-batches bucket and the stream in stack outputs, for the redrive command', () => {
      const outputs = Object.entries(built.template.toJSON().Outputs as Record<string, { Value: unknown }>);
      const valueOf = (id: string) => outputs.filter(([key]) => key.includes(id)).map(([, output]) => output.Value);
      expect(valueOf(STACK_OUTPUTS.failedDeliveriesBucket)).toEqual([{ Ref: logicalIdOf(built.stack.parley.buckets.failedDeliveries) }]);
      expect(valueOf(STACK_OUTPUTS.messageStream)).toEqual([{ Ref: logicalIdOf(built.stack.parley.streams.messages) }]);
      expect(valueOf(STACK_OUTPUTS.groupStream)).toEqual([{ Ref: logicalIdOf(built.stack.parley.streams.groupMessages) }]);
      expect(valueOf(STACK_OUTPUTS.acceptedMessagesTable)).toEqual([{ Ref: logicalIdOf(built.stack.parley.tables.acceptedMessages) }]);
    });

    it('lets the function subscribe through its consumer and only write to its failed-batches bucket; no other function may', () => {
      const consumerLogicalId = logicalIdOf(built.stack.parley.handlers.streamConsumers[functionId].consumer);
      const bucketLogicalId = logicalIdOf(built.stack.parley.buckets[definition.failedBatchesTo]);
      const statementsOn = (reader: FunctionId, logicalId: string) =>
        statementsOfRole(built.template, logicalIdOf(built.stack.parley.functions[reader].role!)).filter((statement) =>
          referencedLogicalIds(statement.Resource).has(logicalId),
        );
      const actionsOn = (reader: FunctionId, logicalId: string) => statementsOn(reader, logicalId).flatMap(actionsOf);

      expect(actionsOn(functionId, consumerLogicalId).sort()).toEqual(
        ['kinesis:DescribeStreamConsumer', 'kinesis:SubscribeToShard'].sort(),
      );
      // What Lambda's documentation asks for an S3 destination, and no read or delete.
      expect(statementsOn(functionId, bucketLogicalId).map((s) => [actionsOf(s), s.Resource])).toEqual([
        [['s3:PutObject'], { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketLogicalId, 'Arn'] }, '/*']] }],
        [['s3:ListBucket'], { 'Fn::GetAtt': [bucketLogicalId, 'Arn'] }],
      ]);
      // The other message stream's fanout writes its own failed batches to the same bucket, and only that.
      const writesFailedBatchesThere = (other: FunctionId) => consumers.some(([id, consumes]) => id === other && consumes.failedBatchesTo === definition.failedBatchesTo);
      for (const other of Object.keys(functions) as FunctionId[]) {
        if (other === functionId) continue;
        expect({ other, onConsumer: actionsOn(other, consumerLogicalId), onBucket: actionsOn(other, bucketLogicalId).sort() }).toEqual({
          other,
          onConsumer: [],
          onBucket: writesFailedBatchesThere(other) ? ['s3:ListBucket', 's3:PutObject'] : [],
        });
      }
    });
  });
});
