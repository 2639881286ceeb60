import { functions, type FunctionDefinition, type FunctionId } from '../../lambdas/functions';
import type { TableId } from '../../lambdas/resources';
import type { ExpiryFunctionId } from '../../lib/functions';
import {
  actionsOf,
  eventSourceMappingOf,
  expectFailedRecordsQueue,
  logicalIdOf,
  logicalIdsWithAttribute,
  resourcesOf,
  statementsOfRole,
  synthParley,
  type Synthesized,
} from './fixture';

const expiryConsumers = (Object.entries(functions) as [FunctionId, FunctionDefinition][]).flatMap(([functionId, definition]) =>
  definition.onExpiry ? [[functionId as ExpiryFunctionId, definition.onExpiry] as const] : [],
) as [ExpiryFunctionId, TableId][];

describe('expiry consumers', () => {
  let built: Synthesized;
  const mappingOf = (functionId: ExpiryFunctionId) => eventSourceMappingOf(built, functionId);
  const actionsOn = (functionId: FunctionId, logicalId: string, attribute: string) =>
    statementsOfRole(built.template, logicalIdOf(built.stack.parley.functions[functionId].role!))
      .filter((statement) => logicalIdsWithAttribute(statement.Resource, attribute).has(logicalId))
      .flatMap(actionsOf);

  beforeAll(() => {
    built = synthParley();
  });

  it('are what the definitions declare: queueExpiry is invoked with the device queues’ TTL deletions', () => {
    expect(expiryConsumers).toContainEqual(['queueExpiry', 'deviceQueues']);
  });

  describe.each(expiryConsumers)('%s', (functionId, tableId) => {
    it(`is invoked from the ${tableId} table’s stream, oldest first, bisecting failing batches, retried whole`, () => {
      const { FilterCriteria, ...mapping } = mappingOf(functionId);
      expect(mapping).toEqual({
        EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(built.stack.parley.tables[tableId]), 'StreamArn'] },
        FunctionName: { Ref: logicalIdOf(built.stack.parley.functions[functionId]) },
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 100,
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 10,
        // No FunctionResponseTypes: the handler does not report batch item failures.
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': [logicalIdOf(built.stack.parley.failedRecords[functionId]), 'Arn'] } },
        },
      });
      expect(FilterCriteria).toBeDefined();
    });

    it('is invoked only by deletions that DynamoDB’s TTL service made', () => {
      const { Filters } = mappingOf(functionId).FilterCriteria as { Filters: { Pattern: string }[] };
      expect(Filters.map((filter) => JSON.parse(filter.Pattern) as unknown)).toEqual([
        {
          eventName: ['REMOVE'],
          userIdentity: { type: ['Service'], principalId: ['dynamodb.amazonaws.com'] },
        },
      ]);
    });

    it('sends the records it gives up on to an encrypted, TLS-only queue that keeps them 14 days', () => {
      expectFailedRecordsQueue(built, functionId);
    });

    it(`lets the function, and no other, read the ${tableId} table’s stream and send to its queue`, () => {
      const tableLogicalId = logicalIdOf(built.stack.parley.tables[tableId]);
      const queueLogicalId = logicalIdOf(built.stack.parley.failedRecords[functionId]);
      expect(actionsOn(functionId, tableLogicalId, 'StreamArn').sort()).toEqual(
        ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'].sort(),
      );
      expect(actionsOn(functionId, queueLogicalId, 'Arn')).toContain('sqs:SendMessage');
      for (const other of Object.keys(functions) as FunctionId[]) {
        if (other === functionId) continue;
        expect({
          other,
          onStream: actionsOn(other, tableLogicalId, 'StreamArn'),
          onQueue: actionsOn(other, queueLogicalId, 'Arn'),
        }).toEqual({ other, onStream: [], onQueue: [] });
      }
    });

    it('deletes its queue with the stack under parley:removalPolicy destroy', () => {
      const destroyed = synthParley({ 'parley:removalPolicy': 'destroy' });
      const queueLogicalId = logicalIdOf(destroyed.stack.parley.failedRecords[functionId]);
      expect(resourcesOf(destroyed.template, 'AWS::SQS::Queue')[queueLogicalId]).toMatchObject({ DeletionPolicy: 'Delete' });
    });
  });
});
