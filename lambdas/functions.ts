/**
 * Every Lambda function of Parley and the routes that reach it, defined once. The CDK stack makes one
 * NodejsFunction per entry, grants it exactly the access declared here and wires its routes; the local
 * runtime imports the same handler modules and serves the same routes.
 */
import type { BucketId, StreamId, TableId } from './resources';

export type TableAccess = 'read' | 'readWrite';

export interface FunctionDefinition {
  /** Handler module, relative to the project root; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  /** The tables the function reads or writes; it is granted nothing else. */
  readonly tables?: Partial<Record<TableId, TableAccess>>;
  /** Streams the function puts records on. */
  readonly putsTo?: readonly StreamId[];
  /** Buckets the function presigns uploads and downloads for. */
  readonly uploadsTo?: readonly BucketId[];
  /** Whether it posts to or closes WebSocket connections through the `@connections` API. */
  readonly manageConnections?: boolean;
  /** Whether it sends SMS through SNS. */
  readonly sendsSms?: boolean;
  /**
   * The table whose TTL deletions invoke it: on AWS through the table's DynamoDB stream, filtered to
   * deletions by the TTL service; locally through the TTL sweeper.
   */
  readonly onExpiry?: TableId;
  /** The stream whose records invoke it, and how (Lambda's Kinesis event source mapping). */
  readonly consumes?: StreamConsumerDefinition;
}

export interface StreamConsumerDefinition {
  readonly stream: StreamId;
  /** Records per invocation. */
  readonly batchSize: number;
  /** Retries of a failing batch (bisected on error) before its records go to the on-failure queue. */
  readonly retryAttempts: number;
  /** The function answers `batchItemFailures`, so only the failed records and those after them are retried. */
  readonly reportBatchItemFailures: true;
}

export const functions = {
  webSocketAuthorizer: {
    entry: 'lambdas/connect/authorizer.ts',
    description: 'Admits a WebSocket handshake only with valid device credentials',
    tables: { devices: 'read' },
  },
  connect: {
    entry: 'lambdas/connect/connect.ts',
    description: 'Records the device → connection route; closes an older connection of the same device',
    tables: { routing: 'readWrite' },
    manageConnections: true,
  },
  disconnect: {
    entry: 'lambdas/connect/disconnect.ts',
    description: 'Removes the device route if it still points at the closed connection',
    tables: { routing: 'readWrite' },
  },
  heartbeat: {
    entry: 'lambdas/connect/heartbeat.ts',
    description: 'Refreshes the device route so a live connection keeps it',
    tables: { routing: 'readWrite' },
  },
  unknownAction: {
    entry: 'lambdas/connect/unknown-action.ts',
    description: 'Answers frames that match no route with an error frame',
  },
  send: {
    entry: 'lambdas/send/send.ts',
    description: 'Accepts a SEND: checks it, stamps it and puts it on the message stream before the ACK',
    tables: { devices: 'read', conversationClocks: 'readWrite', acceptedMessages: 'readWrite' },
    putsTo: ['messages'],
  },
  fanout: {
    entry: 'lambdas/fanout/fanout.ts',
    description: 'Writes each streamed message to its devices’ queues, then pushes it to their live connections',
    tables: { deviceQueues: 'readWrite', routing: 'readWrite', devices: 'read', conversations: 'readWrite' },
    manageConnections: true,
    consumes: { stream: 'messages', batchSize: 100, retryAttempts: 10, reportBatchItemFailures: true },
  },
  sync: {
    entry: 'lambdas/sync/sync.ts',
    description: 'Streams a device’s queue to it in order, page by page',
    tables: { deviceQueues: 'read' },
    manageConnections: true,
  },
  delivered: {
    entry: 'lambdas/sync/delivered.ts',
    description: 'Deletes what a device acknowledged from its queue, sends the delivered receipts and keeps its user’s previews',
    tables: { deviceQueues: 'readWrite', conversations: 'readWrite' },
    putsTo: ['messages'],
  },
  read: {
    entry: 'lambdas/send/read.ts',
    description: 'Sends a read receipt to the sender’s devices and the reader’s other devices',
    tables: { conversations: 'readWrite', conversationClocks: 'read' },
    putsTo: ['messages'],
  },
  queueExpiry: {
    entry: 'lambdas/fanout/queue-expiry.ts',
    description: 'Tells the sender’s devices when a message expired undelivered in a device queue',
    putsTo: ['messages'],
    onExpiry: 'deviceQueues',
  },
  httpAuthorizer: {
    entry: 'lambdas/accounts/authorizer.ts',
    description: 'Admits HTTP requests only with valid device credentials',
    tables: { devices: 'read' },
  },
  requestVerificationCode: {
    entry: 'lambdas/accounts/request-verification-code.ts',
    description: 'Sends a one-time registration code by SMS, rate-limited per number',
    tables: { verificationCodes: 'readWrite' },
    sendsSms: true,
  },
  registerAccount: {
    entry: 'lambdas/accounts/register-account.ts',
    description: 'Checks the SMS code and creates the account with its primary device',
    tables: {
      verificationCodes: 'readWrite',
      accounts: 'readWrite',
      devices: 'readWrite',
      routing: 'readWrite',
      deviceQueues: 'readWrite',
    },
    manageConnections: true,
  },
  createLinkToken: {
    entry: 'lambdas/accounts/create-link-token.ts',
    description: 'Issues a short-lived token with which a new device joins the account',
    tables: { linkTokens: 'readWrite', devices: 'read' },
  },
  linkDevice: {
    entry: 'lambdas/accounts/link-device.ts',
    description: 'Consumes a link token and adds a device to the account',
    tables: { linkTokens: 'readWrite', devices: 'readWrite', deviceQueues: 'readWrite' },
  },
  listDevices: {
    entry: 'lambdas/accounts/list-devices.ts',
    description: 'Lists the devices of the caller’s account',
    tables: { devices: 'read' },
  },
  listConversations: {
    entry: 'lambdas/accounts/list-conversations.ts',
    description: 'Lists the caller’s conversations by last activity, with unread counts and encrypted previews',
    tables: { conversations: 'read' },
  },
  removeDevice: {
    entry: 'lambdas/accounts/remove-device.ts',
    description: 'Removes a linked device and closes its live connection',
    tables: { devices: 'readWrite', routing: 'readWrite' },
    manageConnections: true,
  },
} as const satisfies Record<string, FunctionDefinition>;

export type FunctionId = keyof typeof functions;

/** Route key → function. Route selection is on `$request.body.action`, as API Gateway is configured. */
export const webSocketRoutes = {
  $connect: 'connect',
  $disconnect: 'disconnect',
  $default: 'unknownAction',
  HEARTBEAT: 'heartbeat',
  SEND: 'send',
  SYNC: 'sync',
  DELIVERED: 'delivered',
  READ: 'read',
} as const satisfies Record<string, FunctionId>;

export const webSocketAuthorizer = {
  function: 'webSocketAuthorizer',
  /** Like API Gateway, a handshake without this header is refused with 401 before the authorizer runs. */
  identityHeader: 'Authorization',
} as const satisfies { function: FunctionId; identityHeader: string };

export const routeSelectionExpression = '$request.body.action';

export interface HttpRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway path syntax: `{name}` is a path parameter. */
  readonly path: string;
  readonly function: FunctionId;
  /** Whether the request must carry device credentials (checked by the HTTP authorizer). */
  readonly authorized: boolean;
}

export const httpRoutes = [
  { method: 'POST', path: '/v1/verification/code', function: 'requestVerificationCode', authorized: false },
  { method: 'POST', path: '/v1/accounts', function: 'registerAccount', authorized: false },
  { method: 'POST', path: '/v1/devices/link-token', function: 'createLinkToken', authorized: true },
  { method: 'POST', path: '/v1/devices/link', function: 'linkDevice', authorized: false },
  { method: 'GET', path: '/v1/devices', function: 'listDevices', authorized: true },
  { method: 'DELETE', path: '/v1/devices/{deviceId}', function: 'removeDevice', authorized: true },
  { method: 'GET', path: '/v1/conversations', function: 'listConversations', authorized: true },
] as const satisfies readonly HttpRoute[];

export const httpAuthorizer = {
  function: 'httpAuthorizer',
  identityHeader: 'Authorization',
} as const satisfies { function: FunctionId; identityHeader: string };

/** Route keys whose handler answers the caller directly (API Gateway two-way routes). */
export function isTwoWayRoute(routeKey: string): boolean {
  return routeKey !== '$connect' && routeKey !== '$disconnect';
}
