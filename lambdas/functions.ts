/**
 * Every Lambda function of Parley and the routes that reach it, defined once. The CDK stack makes one
 * NodejsFunction per entry, grants it exactly the access declared here and wires its routes; the local
 * runtime imports the same handler modules and serves the same routes.
 */
import type { BucketId, StreamId, TableId } from './resources';

export type TableAccess = 'read' | 'readWrite';

/**
 * What a function does with devices' SNS push endpoints: `register` creates endpoints on the platform
 * applications and re-enables them, `publish` sends wake-ups to them, `delete` deletes them.
 */
export type PushEndpointAccess = 'register' | 'publish' | 'delete';

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
  /** Whether it sends SMS through SNS; it is given the SMS limits (`SMS_LIMITS`). */
  readonly sendsSms?: boolean;
  /**
   * What it does with devices' push endpoints; it is given the platform applications' ARNs
   * (`PUSH_PLATFORM_APPLICATIONS`) and may do this on their endpoints only.
   */
  readonly pushEndpoints?: readonly PushEndpointAccess[];
  /**
   * The table whose TTL deletions invoke it: on AWS through the table's DynamoDB stream, filtered to
   * deletions by the TTL service; locally through the TTL sweeper.
   */
  readonly onExpiry?: TableId;
  /** Whether it enforces the SEND rate limits (in `rateLimits`); it is given the deployment's limits if they are not the defaults. */
  readonly limitsSends?: true;
  /** The stream whose records invoke it, and how (Lambda's Kinesis event source mapping). */
  readonly consumes?: StreamConsumerDefinition;
}

export interface StreamConsumerDefinition {
  readonly stream: StreamId;
  /** Records per invocation. */
  readonly batchSize: number;
  /**
   * Batches of one shard in flight at once (Lambda's `ParallelizationFactor`, 1 to 10). Lambda keeps the
   * records of one partition key (one conversation) in one of them, in order, so a large group's fan-out
   * holds up only the conversations that hash with it, not its whole shard.
   */
  readonly parallelizationFactor: number;
  /** Retries of a failing batch (bisected on error) before its records go to the on-failure destination. */
  readonly retryAttempts: number;
  /** The function answers `batchItemFailures`, so only the failed records and those after them are retried. */
  readonly reportBatchItemFailures: true;
  /** The bucket Lambda writes each batch it gave up on to, records and all, for `npm run redrive`. */
  readonly failedBatchesTo: BucketId;
}

/**
 * What fetching bundles reaches: the rate limit, the target's devices and keys, and, for a PREKEYS_LOW
 * notice, the owning device's queue and route.
 */
const keyFetchTables = {
  rateLimits: 'readWrite',
  devices: 'read',
  deviceKeys: 'readWrite',
  oneTimePrekeys: 'readWrite',
  deviceQueues: 'readWrite',
  routing: 'readWrite',
} as const satisfies FunctionDefinition['tables'];

/**
 * What announcing a presence change reaches: the watched user's subscriptions (gone ones are deleted), the
 * viewers' presence items (their settings), the user's contacts and blocks, and the routes of the user's
 * own devices (what they watch). Such functions also manage connections: they post PRESENCE frames.
 */
const presenceAnnouncementTables = {
  presence: 'read',
  presenceSubscriptions: 'readWrite',
  contacts: 'read',
  blocks: 'read',
  routing: 'read',
} as const satisfies FunctionDefinition['tables'];

/**
 * Every function that streams records puts them on their conversation's stream (`putOnMessageStream`). Those
 * whose records may be of either kind of conversation (receipts, revokes, expiries) may put to both; those
 * whose frames name one kind only to its stream: a SEND is 1:1, a GROUP_SEND and a group change are a group's.
 */
const MESSAGE_STREAMS = ['messages', 'groupMessages'] as const satisfies readonly StreamId[];

/**
 * The fanout, one function per message stream with the same code (`lambdas/fanout/stream-record-delivery.ts`):
 * each has its own concurrency, memory, duration metrics, record counts and iterator-age alarm, so a group's
 * long batches show, scale and alarm apart from the 1:1 conversations' short ones.
 */
const fanoutOfStream = {
  tables: {
    deviceQueues: 'readWrite',
    routing: 'readWrite',
    devices: 'readWrite',
    conversations: 'readWrite',
    groups: 'read',
    groupReceipts: 'readWrite',
    groupTimeline: 'readWrite',
    groupDelivery: 'readWrite',
    acceptedMessages: 'read',
  },
  manageConnections: true,
  pushEndpoints: ['publish', 'delete'],
} as const satisfies Omit<FunctionDefinition, 'description' | 'entry'>;

/** How both fanouts consume their stream (Lambda's Kinesis event source mapping). */
const fanoutConsumer = {
  batchSize: 100,
  parallelizationFactor: 10,
  retryAttempts: 10,
  reportBatchItemFailures: true,
  failedBatchesTo: 'failedDeliveries',
} as const satisfies Omit<StreamConsumerDefinition, 'stream'>;

/*
 * Every WebSocket route but HEARTBEAT and $default first reads the device's route, and closes the
 * connection when a newer one replaced it (lambdas/connect/sessions.ts): those functions read `routing` and
 * manage connections.
 */
export const functions = {
  webSocketAuthorizer: {
    entry: 'lambdas/connect/authorizer.ts',
    description: 'Admits a WebSocket handshake only with valid device credentials',
    tables: { devices: 'read' },
  },
  connect: {
    entry: 'lambdas/connect/connect.ts',
    description: 'Records the device → connection route; closes an older connection of the same device; announces the user online',
    // devices: the device may be live (group fan-outs read its route) and is awake (its next offline message may wake it at once).
    tables: { ...presenceAnnouncementTables, routing: 'readWrite', devices: 'readWrite', presence: 'readWrite' },
    manageConnections: true,
  },
  disconnect: {
    entry: 'lambdas/connect/disconnect.ts',
    description: 'Removes the device route and its device record’s connection if they still point at the closed connection; announces the user offline with their last seen',
    // devices: the device's connection is forgotten, so group fan-outs stop reading its route.
    tables: { ...presenceAnnouncementTables, routing: 'readWrite', devices: 'readWrite', presence: 'readWrite' },
    manageConnections: true,
  },
  heartbeat: {
    entry: 'lambdas/connect/heartbeat.ts',
    description: 'Refreshes the device route so a live connection keeps it',
    tables: { routing: 'readWrite' },
    // A connection the device has replaced is told so and closed.
    manageConnections: true,
  },
  unknownAction: {
    entry: 'lambdas/connect/unknown-action.ts',
    description: 'Answers frames that match no route with an error frame',
  },
  send: {
    entry: 'lambdas/send/send.ts',
    description: 'Accepts a SEND: checks it, stamps it and puts it on the message stream before the ACK',
    // blocks: one read of whether the recipient blocked the sender.
    tables: { routing: 'read', devices: 'read', conversationClocks: 'readWrite', acceptedMessages: 'readWrite', rateLimits: 'readWrite', blocks: 'read' },
    putsTo: ['messages'],
    manageConnections: true,
    limitsSends: true,
  },
  groupSend: {
    entry: 'lambdas/send/group-send.ts',
    description: 'Accepts a GROUP_SEND from a current member: stamps it and puts it on the message stream before the ACK',
    tables: { routing: 'read', groups: 'read', acceptedMessages: 'readWrite', conversationClocks: 'readWrite', rateLimits: 'readWrite' },
    putsTo: ['groupMessages'],
    manageConnections: true,
    limitsSends: true,
  },
  fanout: {
    ...fanoutOfStream,
    entry: 'lambdas/fanout/fanout.ts',
    description: 'Writes each streamed 1:1 message and receipt to its devices’ queues, then pushes it to their live connections or wakes them',
    consumes: { stream: 'messages', ...fanoutConsumer },
  },
  groupFanout: {
    ...fanoutOfStream,
    entry: 'lambdas/fanout/group-fanout.ts',
    description: 'Writes each streamed group message once, to its group’s timeline, and each group receipt and change to its devices’ queues, then pushes them to their live connections or wakes them',
    // Writes: the device ids of the members a change added, when a device was linked as they joined.
    tables: { ...fanoutOfStream.tables, groups: 'readWrite' },
    consumes: { stream: 'groupMessages', ...fanoutConsumer },
  },
  sync: {
    entry: 'lambdas/sync/sync.ts',
    description: 'Moves the group cursors a SYNC acknowledges, then answers a device’s queue and its groups’ timelines in order, one page per SYNC, and at its end the 1:1 delivery states that changed',
    // Writes: a group acknowledgement's cursor (its preview kept with it) and watermark, and the "delivered to everyone" receipts it queues.
    tables: {
      routing: 'readWrite',
      deviceQueues: 'readWrite',
      devices: 'read',
      conversations: 'read',
      groupDelivery: 'readWrite',
      groupTimeline: 'read',
      groupReceipts: 'readWrite',
      groups: 'read',
    },
    manageConnections: true,
  },
  delivered: {
    entry: 'lambdas/sync/delivered.ts',
    description: 'Deletes what a device acknowledged from its queue, moves its group cursors, moves and pushes the delivery states and keeps its user’s previews',
    tables: {
      routing: 'readWrite',
      deviceQueues: 'readWrite',
      devices: 'read',
      conversations: 'readWrite',
      groupTimeline: 'read',
      groupDelivery: 'readWrite',
      groupReceipts: 'readWrite',
      groups: 'read',
    },
    putsTo: MESSAGE_STREAMS,
    manageConnections: true,
  },
  read: {
    entry: 'lambdas/send/read.ts',
    description: 'Sends a read receipt to the sender’s devices and the reader’s other devices',
    // presence: both users' read-receipt settings, in a 1:1 chat.
    tables: { routing: 'read', conversations: 'readWrite', conversationClocks: 'read', groups: 'read', groupReceipts: 'read', presence: 'read' },
    putsTo: MESSAGE_STREAMS,
    manageConnections: true,
  },
  revoke: {
    entry: 'lambdas/send/revoke.ts',
    description: 'Deletes a message for everyone: marks it revoked, drops its copies still queued by key (a group message: withdraws it from the timeline), and streams a revoke record after it',
    tables: { routing: 'read', acceptedMessages: 'readWrite', devices: 'read', deviceQueues: 'readWrite', groupReceipts: 'read', groupTimeline: 'readWrite' },
    putsTo: MESSAGE_STREAMS,
  },
  queueExpiry: {
    entry: 'lambdas/fanout/queue-expiry.ts',
    description: 'Tells the sender’s devices when a message expired undelivered in a device queue',
    putsTo: MESSAGE_STREAMS,
    onExpiry: 'deviceQueues',
  },
  httpAuthorizer: {
    entry: 'lambdas/accounts/authorizer.ts',
    description: 'Admits HTTP requests only with valid device credentials',
    tables: { devices: 'read' },
  },
  requestVerificationCode: {
    entry: 'lambdas/accounts/request-verification-code.ts',
    description: 'Sends a one-time registration code by SMS, rate-limited per number, source address, number prefix and day',
    tables: { verificationCodes: 'readWrite', smsSendCounts: 'readWrite' },
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
      deviceKeys: 'readWrite',
      oneTimePrekeys: 'readWrite',
    },
    manageConnections: true,
    pushEndpoints: ['delete'],
  },
  createLinkToken: {
    entry: 'lambdas/accounts/create-link-token.ts',
    description: 'Issues a short-lived token with which a new device joins the account',
    tables: { linkTokens: 'readWrite', devices: 'read' },
  },
  linkDevice: {
    entry: 'lambdas/accounts/link-device.ts',
    description: 'Consumes a link token and adds a device to the account',
    // conversations and groups: the new device's id goes into every group the chat list shows the user in.
    tables: { linkTokens: 'readWrite', devices: 'readWrite', deviceQueues: 'readWrite', deviceKeys: 'readWrite', oneTimePrekeys: 'readWrite', conversations: 'read', groups: 'readWrite' },
  },
  listDevices: {
    entry: 'lambdas/accounts/list-devices.ts',
    description: 'Lists the devices of the caller’s account',
    tables: { devices: 'read' },
  },
  listConversations: {
    entry: 'lambdas/accounts/list-conversations.ts',
    description: 'Lists the caller’s conversations by last activity, with unread counts and encrypted previews',
    // groupReceipts: where an older preview's message sits in the timeline (was it deleted for everyone?);
    // groupDelivery: the group previews the user's devices keep with their cursors.
    tables: { conversations: 'read', groupTimeline: 'read', groupReceipts: 'read', groupDelivery: 'read' },
  },
  removeDevice: {
    entry: 'lambdas/accounts/remove-device.ts',
    description: 'Removes a linked device, closes its live connection and deletes its push endpoint and keys',
    tables: { devices: 'readWrite', routing: 'readWrite', deviceKeys: 'readWrite', oneTimePrekeys: 'readWrite' },
    manageConnections: true,
    pushEndpoints: ['delete'],
  },
  registerPushToken: {
    entry: 'lambdas/push/register-push-token.ts',
    description: 'Registers the calling device’s push token as an SNS endpoint, so it can be woken when offline',
    tables: { devices: 'readWrite' },
    pushEndpoints: ['register', 'delete'],
  },
  unregisterPushToken: {
    entry: 'lambdas/push/unregister-push-token.ts',
    description: 'Forgets the calling device’s push token and deletes its SNS endpoint',
    tables: { devices: 'readWrite' },
    pushEndpoints: ['delete'],
  },
  createGroup: {
    entry: 'lambdas/groups/create-group.ts',
    description: 'Creates a group with the caller as admin and announces it to every member',
    tables: { groups: 'readWrite', devices: 'read' },
    putsTo: ['groupMessages'],
  },
  changeGroupMembers: {
    entry: 'lambdas/groups/change-members.ts',
    description: 'Adds, removes and promotes group members as one change and announces it',
    tables: { groups: 'readWrite', devices: 'read' },
    putsTo: ['groupMessages'],
  },
  getGroup: {
    entry: 'lambdas/groups/get-group.ts',
    description: 'Answers a group’s name, version and members to its members',
    tables: { groups: 'read' },
  },
  listGroups: {
    entry: 'lambdas/groups/list-groups.ts',
    description: 'Lists the groups the caller is a member of',
    tables: { groups: 'read', conversations: 'read' },
  },
  groupMessageReceipts: {
    entry: 'lambdas/groups/message-receipts.ts',
    description: 'Tells the sender of a group message which members have it and which have read it',
    tables: { groupReceipts: 'read', groupDelivery: 'read' },
  },
  uploadKeys: {
    entry: 'lambdas/keys/upload-keys.ts',
    description: 'Checks and stores the public keys a device uploads of its own',
    tables: { deviceKeys: 'readWrite', oneTimePrekeys: 'readWrite', devices: 'readWrite' },
  },
  uploadPrekeys: {
    entry: 'lambdas/keys/upload-prekeys.ts',
    description: 'UPLOAD_PREKEYS: checks and stores the public keys a device uploads of its own',
    tables: { routing: 'read', deviceKeys: 'readWrite', oneTimePrekeys: 'readWrite', devices: 'readWrite' },
    manageConnections: true,
  },
  countPrekeys: {
    entry: 'lambdas/keys/count-prekeys.ts',
    description: 'Counts the one-time prekeys a device has left',
    tables: { oneTimePrekeys: 'read' },
  },
  fetchUserKeys: {
    entry: 'lambdas/keys/fetch-user-keys.ts',
    description: 'Hands out a prekey bundle per device of a user, taking one-time prekeys atomically',
    tables: keyFetchTables,
    manageConnections: true,
  },
  fetchKeysBatch: {
    entry: 'lambdas/keys/fetch-keys-batch.ts',
    description: 'Hands out prekey bundles of many users’ devices, taking one-time prekeys atomically',
    tables: keyFetchTables,
    manageConnections: true,
  },
  fetchKeys: {
    entry: 'lambdas/keys/fetch-keys.ts',
    description: 'FETCH_KEYS: hands out prekey bundles, taking one-time prekeys atomically',
    tables: keyFetchTables,
    manageConnections: true,
  },
  createMediaUpload: {
    entry: 'lambdas/media/create-upload.ts',
    description: 'Answers a presigned upload bound to an encrypted blob’s size and SHA-256, or the id of the same blob already stored',
    tables: { mediaDigests: 'readWrite', mediaUploads: 'readWrite', rateLimits: 'readWrite' },
    uploadsTo: ['media'],
  },
  requestMediaParts: {
    entry: 'lambdas/media/request-parts.ts',
    description: 'Lists the parts of a multipart media upload S3 already holds and presigns a PUT for each other part asked for',
    tables: { mediaUploads: 'read' },
    uploadsTo: ['media'],
  },
  completeMediaUpload: {
    entry: 'lambdas/media/complete-upload.ts',
    description: 'Completes a multipart media upload once S3 holds every part at its size, then checks the blob’s size',
    tables: { mediaUploads: 'readWrite' },
    uploadsTo: ['media'],
  },
  getMediaDownload: {
    entry: 'lambdas/media/get-download.ts',
    description: 'Answers a short-lived presigned download of a stored blob to any signed-in device that knows its id',
    tables: { rateLimits: 'readWrite' },
    uploadsTo: ['media'],
  },
  routeExpiry: {
    entry: 'lambdas/presence/route-expiry.ts',
    description: 'Announces a user offline when their last route expired without a $disconnect (a connection that died silently)',
    tables: { ...presenceAnnouncementTables, presence: 'readWrite' },
    manageConnections: true,
    onExpiry: 'routing',
  },
  subscribePresence: {
    entry: 'lambdas/presence/subscribe-presence.ts',
    description: 'SUBSCRIBE_PRESENCE: the connection watches these users’ presence; answers it as the caller may see it',
    tables: { ...presenceAnnouncementTables, routing: 'readWrite', devices: 'read' },
    manageConnections: true,
  },
  getPresence: {
    entry: 'lambdas/presence/get-presence.ts',
    description: 'Answers a user’s presence as the caller may see it',
    tables: { devices: 'read', presence: 'read', contacts: 'read', blocks: 'read' },
  },
  typing: {
    entry: 'lambdas/presence/typing.ts',
    description: 'TYPING: relays a typing notice to the conversation’s other live devices, throttled, stored nowhere',
    tables: { routing: 'read', groups: 'read', blocks: 'read' },
    manageConnections: true,
  },
  lookupPhoneNumbers: {
    entry: 'lambdas/contacts/lookup-phone-numbers.ts',
    description: 'Answers which phone numbers have accounts, within the device’s daily lookup quota',
    tables: { accounts: 'read', rateLimits: 'readWrite' },
  },
  getContacts: {
    entry: 'lambdas/contacts/get-contacts.ts',
    description: 'Answers the userIds the caller keeps as contacts',
    tables: { contacts: 'read' },
  },
  putContacts: {
    entry: 'lambdas/contacts/put-contacts.ts',
    description: 'Replaces the caller’s contacts and updates what live presence watchers see',
    tables: { ...presenceAnnouncementTables, devices: 'read', contacts: 'readWrite' },
    manageConnections: true,
  },
  getPrivacy: {
    entry: 'lambdas/contacts/get-privacy.ts',
    description: 'Answers the caller’s privacy settings',
    tables: { presence: 'read' },
  },
  putPrivacy: {
    entry: 'lambdas/contacts/put-privacy.ts',
    description: 'Changes the caller’s privacy settings and updates what live presence watchers see',
    tables: { ...presenceAnnouncementTables, presence: 'readWrite' },
    manageConnections: true,
  },
  blockUser: {
    entry: 'lambdas/contacts/block-user.ts',
    description: 'Blocks a user: their messages are never delivered, they see none of the caller’s presence',
    tables: { ...presenceAnnouncementTables, devices: 'read', blocks: 'readWrite' },
    manageConnections: true,
  },
  unblockUser: {
    entry: 'lambdas/contacts/unblock-user.ts',
    description: 'Unblocks a user, for what they send from now on',
    tables: { ...presenceAnnouncementTables, devices: 'read', blocks: 'readWrite' },
    manageConnections: true,
  },
  listBlocks: {
    entry: 'lambdas/contacts/list-blocks.ts',
    description: 'Lists the users the caller blocked',
    tables: { blocks: 'read' },
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
  GROUP_SEND: 'groupSend',
  SYNC: 'sync',
  DELIVERED: 'delivered',
  READ: 'read',
  REVOKE: 'revoke',
  FETCH_KEYS: 'fetchKeys',
  UPLOAD_PREKEYS: 'uploadPrekeys',
  SUBSCRIBE_PRESENCE: 'subscribePresence',
  TYPING: 'typing',
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
  { method: 'PUT', path: '/v1/keys/self', function: 'uploadKeys', authorized: true },
  { method: 'GET', path: '/v1/keys/self/count', function: 'countPrekeys', authorized: true },
  { method: 'GET', path: '/v1/keys/{userId}', function: 'fetchUserKeys', authorized: true },
  { method: 'POST', path: '/v1/keys/batch', function: 'fetchKeysBatch', authorized: true },
  { method: 'POST', path: '/v1/groups', function: 'createGroup', authorized: true },
  { method: 'GET', path: '/v1/groups', function: 'listGroups', authorized: true },
  { method: 'GET', path: '/v1/groups/{groupId}', function: 'getGroup', authorized: true },
  { method: 'POST', path: '/v1/groups/{groupId}/members', function: 'changeGroupMembers', authorized: true },
  { method: 'GET', path: '/v1/groups/{groupId}/messages/{msgId}/receipts', function: 'groupMessageReceipts', authorized: true },
  { method: 'PUT', path: '/v1/devices/self/push', function: 'registerPushToken', authorized: true },
  { method: 'DELETE', path: '/v1/devices/self/push', function: 'unregisterPushToken', authorized: true },
  { method: 'POST', path: '/v1/media', function: 'createMediaUpload', authorized: true },
  { method: 'GET', path: '/v1/media/{mediaId}', function: 'getMediaDownload', authorized: true },
  { method: 'POST', path: '/v1/media/{mediaId}/parts', function: 'requestMediaParts', authorized: true },
  { method: 'POST', path: '/v1/media/{mediaId}/complete', function: 'completeMediaUpload', authorized: true },
  { method: 'POST', path: '/v1/directory/lookup', function: 'lookupPhoneNumbers', authorized: true },
  { method: 'GET', path: '/v1/contacts', function: 'getContacts', authorized: true },
  { method: 'PUT', path: '/v1/contacts', function: 'putContacts', authorized: true },
  { method: 'GET', path: '/v1/privacy', function: 'getPrivacy', authorized: true },
  { method: 'PUT', path: '/v1/privacy', function: 'putPrivacy', authorized: true },
  { method: 'GET', path: '/v1/blocks', function: 'listBlocks', authorized: true },
  { method: 'PUT', path: '/v1/blocks/{userId}', function: 'blockUser', authorized: true },
  { method: 'DELETE', path: '/v1/blocks/{userId}', function: 'unblockUser', authorized: true },
  { method: 'GET', path: '/v1/presence/{userId}', function: 'getPresence', authorized: true },
] as const satisfies readonly HttpRoute[];

export const httpAuthorizer = {
  function: 'httpAuthorizer',
  identityHeader: 'Authorization',
} as const satisfies { function: FunctionId; identityHeader: string };

/** Route keys whose handler answers the caller directly (API Gateway two-way routes). */
export function isTwoWayRoute(routeKey: string): boolean {
  return routeKey !== '$connect' && routeKey !== '$disconnect';
}
