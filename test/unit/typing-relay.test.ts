import { mockClient } from 'aws-sdk-client-mock';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { relayTyping } from '../../lambdas/presence/typing-relay';
import { TypingFrame } from '../../lambdas/protocol/frames';
import { mockDeps, NOW, USER } from '../fixtures/aws-events';

const db = mockClient(DynamoDBDocumentClient);
const connections = mockClient(ApiGatewayManagementApiClient);
const deps = mockDeps();
const GROUP = '3c9e1f2a-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
const BOB = '0d6f3b5e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const CAROL = '9f1c2b3a-4d5e-4f60-8a7b-6c5d4e3f2a1b';
const member = (devices?: number[]) => ({ role: 'member', joinedVersion: 1, ...(devices ? { devices } : {}) });

beforeEach(() => {
  db.reset();
  connections.reset();
  connections.on(PostToConnectionCommand).resolves({});
});

describe('TYPING in a group', () => {
  it('reads the routes of the devices each member entry lists, every id only for an entry that lists none', async () => {
    db.on(GetCommand).resolves({ Item: { groupId: GROUP, version: 1, members: { [USER]: member([1]), [BOB]: member([1, 3]), [CAROL]: member() } } });
    db.on(BatchGetCommand).resolves({
      Responses: { 'parley-routing': [{ userId: BOB, deviceId: 3, connectionId: 'bob-3=', connectedAt: NOW - 1000, expiresAt: NOW / 1000 + 600 }] },
    });
    const reached = await relayTyping(deps, { userId: USER, deviceId: 1 }, TypingFrame.parse({ action: 'TYPING', conversationId: `group:${GROUP}`, state: 'composing' }));
    expect(reached).toBe(1);
    const keys = db.commandCalls(BatchGetCommand).flatMap((call) => call.args[0].input.RequestItems!['parley-routing']!.Keys!);
    expect(keys).toEqual([
      { userId: BOB, deviceId: 1 },
      { userId: BOB, deviceId: 3 },
      ...[1, 2, 3, 4, 5].map((deviceId) => ({ userId: CAROL, deviceId })),
    ]);
    // The group is read without its name and last change.
    expect(db.commandCalls(GetCommand)[0]!.args[0].input.ProjectionExpression).toBeDefined();
  });
});
