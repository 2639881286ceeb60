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
  /**
   * Holds what no client can rebuild (accounts, devices, their keys, undelivered messages): the deployed
   * table has deletion protection in protected stages (`parley:protectData`, on for the `prod` stage).
   */
  readonly irreplaceable?: boolean;
}

export const tables = {
  /** Phone number → account. One item per registered number. */
  accounts: {
    partitionKey: { name: 'phoneNumber', type: 'S' },
    envVar: 'ACCOUNTS_TABLE',
    irreplaceable: true,
  },
  /** The devices of an account, with the salted hash of each device's secret. */
  devices: {
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'deviceId', type: 'N' },
    envVar: 'DEVICES_TABLE',
    irreplaceable: true,
  },
  /** SMS verification codes and the per-number send history that rate-limits them. */
  verificationCodes: {
    partitionKey: { name: 'phoneNumber', type: 'S' },
    timeToLiveAttribute: 'expiresAt',
    envVar: 'VERIFICATION_CODES_TABLE',
  },
  /**
   * Counts of SMS codes sent per source address, per number prefix and per day, one item per counter and
   * window (`sourceIp#…`, `numberPrefix#…`, `day#…`), so that no one fills the SMS bill. Kept until the
   * window is over.
   */
  smsSendCounts: {
    partitionKey: { name: 'counter', type: 'S' },
    timeToLiveAttribute: 'expiresAt',
    envVar: 'SMS_SEND_COUNTS_TABLE',
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
   * the device acknowledges them (DELIVERED names the sort key, a frame's cursor), or 30 days after they
   * were queued. `byMessage` is no longer read or written: items carry no `msgId` attribute, so none
   * enters that sparse index (every queue write is one write, not two); it stays defined because a local
   * index cannot be dropped from a deployed table.
   */
  deviceQueues: {
    partitionKey: { name: 'device', type: 'S' },
    sortKey: { name: 'position', type: 'S' },
    localIndexes: [{ indexName: 'byMessage', sortKey: { name: 'msgId', type: 'S' } }],
    timeToLiveAttribute: 'expiresAt',
    envVar: 'DEVICE_QUEUES_TABLE',
    irreplaceable: true,
  },
  /**
   * Each user's conversations with their last activity, the count of messages not yet read and the
   * encrypted preview of the newest message the user's devices wrote one for, so that a newly linked
   * device can show the chat list; and, on a sender's row, how far its 1:1 messages reached the peer (the
   * delivery state). Rows leave the sparse `byActivity` index at their next write (see
   * lambdas/tables/conversations.ts); it stays defined because a local index cannot be dropped in place.
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
   * Every accepted SEND and GROUP_SEND by msgId, with its sending device and conversation: a msgId is
   * unique across senders (another device's is refused), a retry gets the same ACK and is stamped and
   * streamed once. Kept 30 days, as long as the message may wait in a queue, so a retry is never delivered twice.
   */
  acceptedMessages: {
    partitionKey: { name: 'msgId', type: 'S' },
    timeToLiveAttribute: 'expiresAt',
    envVar: 'ACCEPTED_MESSAGES_TABLE',
  },
  /**
   * Each device's public identity key, registration id, signed prekey and last-resort Kyber prekey: what
   * every bundle of the device carries. Never a private key.
   */
  deviceKeys: {
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'deviceId', type: 'N' },
    envVar: 'DEVICE_KEYS_TABLE',
    irreplaceable: true,
  },
  /**
   * Each device's one-time prekeys, one key per item (a Kyber key is 1.6 KB): partition
   * `${userId}#${deviceId}`, sort `ec#${keyId}` or `kyber#${keyId}` (zero-padded). A fetch takes one of a
   * kind by deleting it, so each goes out once.
   */
  oneTimePrekeys: {
    partitionKey: { name: 'device', type: 'S' },
    sortKey: { name: 'slot', type: 'S' },
    envVar: 'ONE_TIME_PREKEYS_TABLE',
    irreplaceable: true,
  },
  /**
   * Token buckets of the rate limits: how many bundles a device fetches (overall and per target user) and
   * how many messages it sends (overall and per recipient). A bucket goes by TTL once it is full again.
   */
  rateLimits: {
    partitionKey: { name: 'bucket', type: 'S' },
    timeToLiveAttribute: 'expiresAt',
    envVar: 'RATE_LIMITS_TABLE',
  },
  /**
   * Each group in one item: its name, version and members with their roles, so that every membership
   * change is one conditional write and the member limit holds under concurrent changes. 1,024 members
   * make an item of about 80 KB, well under DynamoDB's 400 KB.
   */
  groups: {
    partitionKey: { name: 'groupId', type: 'S' },
    envVar: 'GROUPS_TABLE',
  },
  /**
   * Per group message: who of its members has it and who has read it, so that the sender gets one
   * "delivered to everyone" and one "read by everyone" receipt instead of one per member device, and can
   * look up each member's. Kept 30 days, as long as the message may wait in a queue.
   */
  groupReceipts: {
    partitionKey: { name: 'msgId', type: 'S' },
    timeToLiveAttribute: 'expiresAt',
    envVar: 'GROUP_RECEIPTS_TABLE',
  },
  /**
   * Per group conversation, one item per message in the group's order (sort `${orderTs}#${msgId}`, the
   * fanout's order): the message itself, stored once for every member device (live devices get it pushed,
   * the others read it at SYNC after their cursor in `groupDelivery`), and the group's last activity and each
   * member's unread count. Kept 30 days, as long as a message may wait for a device.
   */
  groupTimeline: {
    partitionKey: { name: 'conversationId', type: 'S' },
    sortKey: { name: 'position', type: 'S' },
    timeToLiveAttribute: 'expiresAt',
    envVar: 'GROUP_TIMELINE_TABLE',
  },
  /**
   * Per group conversation and member (sort `userId`): the timeline `position` up to which the member has
   * the group's messages on at least one of its devices, and each of its devices' cursor (`cursor<deviceId>`,
   * what it acknowledged; SYNC reads what lies after it), moved together in one write per DELIVERED. One
   * more item per group (sort `#everyone`) holds the watermark, the lowest member position, which the
   * sender's "delivered to everyone" ticks follow. Kept 30 days after the last acknowledgement.
   */
  groupDelivery: {
    partitionKey: { name: 'conversationId', type: 'S' },
    sortKey: { name: 'userId', type: 'S' },
    timeToLiveAttribute: 'expiresAt',
    envVar: 'GROUP_DELIVERY_TABLE',
  },
  /**
   * Each user's presence and privacy settings, one item per user: the live connection of each device
   * (`connection#<deviceId>`, removed by `$disconnect` or when the route expires), when the last device
   * went away (`lastSeenAt`), and who may see that (`privacy`). Online and offline are turned by one
   * conditional update each, so concurrent connects and disconnects of a user's devices never disagree.
   */
  presence: {
    partitionKey: { name: 'userId', type: 'S' },
    envVar: 'PRESENCE_TABLE',
  },
  /**
   * Who watches whose presence: partition the watched user, sort the watching device
   * (`<userId>#<deviceId>`), with its connection. A presence change is one query of the watched user's
   * partition, never a scan. An item lives as long as its connection may (2 hours and 5 minutes).
   */
  presenceSubscriptions: {
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'subscriber', type: 'S' },
    timeToLiveAttribute: 'expiresAt',
    envVar: 'PRESENCE_SUBSCRIPTIONS_TABLE',
  },
  /** Each user's contacts: the userIds they keep, in one item, which presence privacy reads. */
  contacts: {
    partitionKey: { name: 'userId', type: 'S' },
    envVar: 'CONTACTS_TABLE',
  },
  /** Who blocked whom: partition the blocker, sort the blocked user. A SEND reads one item of it. */
  blocks: {
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'blockedUserId', type: 'S' },
    envVar: 'BLOCKS_TABLE',
  },
  /**
   * The media dedup index: SHA-256 of an encrypted blob → the mediaId it was stored under, so that the same
   * ciphertext uploaded again gets the existing id and is not stored twice. Kept as long as the blob.
   */
  mediaDigests: {
    partitionKey: { name: 'digest', type: 'S' },
    timeToLiveAttribute: 'expiresAt',
    envVar: 'MEDIA_DIGESTS_TABLE',
  },
  /**
   * Multipart uploads in progress, mediaId → S3's uploadId, the device that started it and the blob it
   * declared, so that `/parts` and `/complete` act only for that device and that blob. Kept a day, as long
   * as the bucket keeps an unfinished upload's parts.
   */
  mediaUploads: {
    partitionKey: { name: 'mediaId', type: 'S' },
    timeToLiveAttribute: 'expiresAt',
    envVar: 'MEDIA_UPLOADS_TABLE',
  },
} as const satisfies Record<string, TableDefinition>;

export type TableId = keyof typeof tables;

export interface StreamDefinition {
  readonly envVar: string;
  /** Shards of the local stream; on AWS every stream is on-demand unless the `parley:messageStreamShards` context is set (then each has that many). */
  readonly localShards: number;
}

export const streams = {
  /** Every 1:1 conversation's records (messages, receipts, revokes), partitioned by conversation so one conversation stays in order. */
  messages: { envVar: 'MESSAGE_STREAM', localShards: 4 },
  /**
   * Every group conversation's records, the same way: on a stream of their own so that a large group's
   * fan-out (~1 s a batch for 1,024 members) never holds up a 1:1 conversation that hashes into its lane.
   */
  groupMessages: { envVar: 'GROUP_MESSAGE_STREAM', localShards: 2 },
} as const satisfies Record<string, StreamDefinition>;

export type StreamId = keyof typeof streams;

export interface BucketDefinition {
  readonly envVar: string;
  /** Days after which S3 deletes an object (a lifecycle rule); the local emulator keeps objects until deleted. */
  readonly expirationDays: number;
  /** Where its objects live: a function that presigns for the bucket (`uploadsTo`) reaches keys under this prefix only. */
  readonly keyPrefix?: string;
  /** Whether browsers may PUT and GET objects with presigned URLs (CORS). @default false */
  readonly browserAccess?: boolean;
}

export const buckets = {
  /** Client-encrypted media, reached only through presigned URLs; kept as long as a message may wait in a queue. */
  media: { envVar: 'MEDIA_BUCKET', expirationDays: 30, keyPrefix: 'media/', browserAccess: true },
  /**
   * Stream batches the fanout gave up on after its retries, each a JSON object Lambda writes with the whole
   * batch in it (not only a pointer into the stream, which forgets a record after 24 hours), until
   * `npm run redrive` puts them back on the stream. Kept a little longer than a message may wait in a
   * queue (30 days), so that a record is still there to be answered with a `failed` receipt.
   */
  failedDeliveries: { envVar: 'FAILED_DELIVERIES_BUCKET', expirationDays: 32 },
} as const satisfies Record<string, BucketDefinition>;

export type BucketId = keyof typeof buckets;

/**
 * The push services a device may register a token with, and the platform of the SNS platform application
 * that reaches each: Apple's production and sandbox gateways, and Firebase Cloud Messaging (SNS calls it GCM).
 */
export const pushPlatforms = { apns: 'APNS', apnsSandbox: 'APNS_SANDBOX', fcm: 'GCM' } as const;

export type PushPlatform = keyof typeof pushPlatforms;

/** Environment variables that are not the name of one resource. */
export const env = {
  /** The `@connections` endpoint of the WebSocket stage (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`). */
  connectionsEndpoint: 'CONNECTIONS_ENDPOINT',
  /**
   * The SNS platform application of each push platform this deployment has, as JSON
   * (`{"apns": "arn:aws:sns:…:app/APNS/…"}`); `{}` when push is off.
   */
  pushPlatformApplications: 'PUSH_PLATFORM_APPLICATIONS',
  /**
   * The SMS limits of functions that send SMS, as JSON (`SmsLimits` in `lambdas/accounts/constants.ts`);
   * the daily budget comes from the `parley:smsDailyBudget` context.
   */
  smsLimits: 'SMS_LIMITS',
  /**
   * The SEND rate limits, as JSON (`{perDevice: {burst, refillMs}, perRecipient: {burst, refillMs}}`),
   * when the deployment overrides the defaults of `lambdas/send/send-rate-limit.ts`.
   */
  sendRateLimits: 'SEND_RATE_LIMITS',
  /** Powertools' service name: every log line and trace segment carries it. */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
} as const;
