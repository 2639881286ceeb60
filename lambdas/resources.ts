/**
 * The stateful resources of Parley, defined once. The CDK stack (`lib/`) and the local runtime (`local/`)
 * both build their tables, stream and bucket from these definitions, and the handlers find them through
 * the environment variables named here. Nothing in this file imports CDK or the AWS SDK.
 */

export type KeyType = 'S' | 'N';

export interface KeyDefinition {
  readonly name: string;
  readonly type: KeyType;
}

export interface LocalIndexDefinition {
  readonly indexName: string;
  /** The index's sort key; its partition key is the table's. All attributes are projected. */
  readonly sortKey: KeyDefinition;
}

export interface TableDefinition {
  readonly partitionKey: KeyDefinition;
  readonly sortKey?: KeyDefinition;
  /** Local secondary indexes: other orders of one partition's items, read strongly consistent. */
  readonly localIndexes?: readonly LocalIndexDefinition[];
  /** Attribute holding an epoch-seconds expiry; DynamoDB deletes the item some time after it passes. */
  readonly timeToLiveAttribute?: string;
  /** The environment variable through which handlers learn the table's name. */
  readonly envVar: string;
}

export const tables = {
  /** Phone number → account. One item per registered number. */
  accounts: {
    partitionKey: { name: 'phoneNumber', type: 'S' },
    envVar: 'ACCOUNTS_TABLE',
  },
  /** The devices of an account, with the salted hash of each device's secret. */
  devices: {
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'deviceId', type: 'N' },
    envVar: 'DEVICES_TABLE',
  },
  /** SMS verification codes and the per-number send history that rate-limits them. */
  verificationCodes: {
    partitionKey: { name: 'phoneNumber', type: 'S' },
    timeToLiveAttribute: 'expiresAt',
    envVar: 'VERIFICATION_CODES_TABLE',
  },
  /** Short-lived, single-use tokens with which a signed-in device links a new one. */
  linkTokens: {
    partitionKey: { name: 'tokenHash', type: 'S' },
    timeToLiveAttribute: 'expiresAt',
    envVar: 'LINK_TOKENS_TABLE',
  },
  /** {userId, deviceId} → the device's live WebSocket connection. */
  routing: {
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'deviceId', type: 'N' },
    timeToLiveAttribute: 'expiresAt',
    envVar: 'ROUTING_TABLE',
  },
  /**
   * Each device's queue of messages and receipts not yet acknowledged, in server order: partition
   * `${userId}#${deviceId}`, sort `${serverTs}#${msgId}` (zero-padded, so it sorts as text). Items go when
   * the device acknowledges them, or 30 days after they were queued.
   */
  deviceQueues: {
    partitionKey: { name: 'device', type: 'S' },
    sortKey: { name: 'position', type: 'S' },
    localIndexes: [{ indexName: 'byMessage', sortKey: { name: 'msgId', type: 'S' } }],
    timeToLiveAttribute: 'expiresAt',
    envVar: 'DEVICE_QUEUES_TABLE',
  },
  /**
   * Each user's conversations, newest activity first through `byActivity`, with the msgIds not yet read
   * (a set, so a redelivered message is not counted twice) and the encrypted preview of the newest message
   * the user's devices wrote one for, so that a newly linked device can show the chat list.
   */
  conversations: {
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'conversationId', type: 'S' },
    localIndexes: [{ indexName: 'byActivity', sortKey: { name: 'lastActivityAt', type: 'N' } }],
    envVar: 'CONVERSATIONS_TABLE',
  },
  /**
   * One clock per conversation: the last serverTs stamped in it, so that a conversation's messages are
   * stamped in strictly increasing order whatever the clocks of the Lambdas that accept them. Its own
   * table, keyed by conversation: a clock belongs to the conversation, not to one member, and one
   * partition per conversation spreads the writes. A group's server sequence number belongs on the same item.
   */
  conversationClocks: {
    partitionKey: { name: 'conversationId', type: 'S' },
    envVar: 'CONVERSATION_CLOCKS_TABLE',
  },
  /**
   * Every accepted SEND by sender and msgId, so that a retried SEND gets the same ACK and is not
   * stamped twice. Kept for a day: a client retries within seconds, or after a reconnect.
   */
  acceptedMessages: {
    partitionKey: { name: 'messageKey', type: 'S' },
    timeToLiveAttribute: 'expiresAt',
    envVar: 'ACCEPTED_MESSAGES_TABLE',
  },
} as const satisfies Record<string, TableDefinition>;

export type TableId = keyof typeof tables;

export interface StreamDefinition {
  readonly envVar: string;
  /** Shards of the local stream; on AWS the stream is on-demand unless the `parley:messageStreamShards` context is set. */
  readonly localShards: number;
}

export const streams = {
  /** Every accepted message, partitioned by conversation so one conversation stays in order. */
  messages: { envVar: 'MESSAGE_STREAM', localShards: 4 },
} as const satisfies Record<string, StreamDefinition>;

export type StreamId = keyof typeof streams;

export const buckets = {
  /** Client-encrypted media, reached only through presigned URLs. */
  media: { envVar: 'MEDIA_BUCKET' },
} as const satisfies Record<string, { readonly envVar: string }>;

export type BucketId = keyof typeof buckets;

/** Environment variables that are not the name of one resource. */
export const env = {
  /** The `@connections` endpoint of the WebSocket stage (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`). */
  connectionsEndpoint: 'CONNECTIONS_ENDPOINT',
  /** Powertools' service name: every log line and trace segment carries it. */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
} as const;
