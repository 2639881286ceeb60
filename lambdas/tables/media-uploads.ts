/**
 * The `mediaUploads` table: a multipart upload in progress, by mediaId. It holds S3's uploadId (which the
 * device never sees: it reaches S3 only through part URLs the server signs), the device that started the
 * upload and the blob it declared, so that only that device gets part URLs and completes it, and only at
 * the declared size. Kept a day, as long as the bucket keeps the parts of an unfinished upload.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableName, type Deps } from '../runtime/deps';

export interface MediaUploadRecord {
  readonly mediaId: string;
  /** S3's id of the multipart upload. */
  readonly uploadId: string;
  /** The device that started it, `userId.deviceId`: the only one that may add parts or complete it. */
  readonly owner: string;
  /** The declared blob: its length and SHA-256 (base64). */
  readonly size: number;
  readonly digest: string;
  /** Every part but the last is this long. */
  readonly partSize: number;
  readonly partCount: number;
  /** When S3 assembled the blob, epoch ms; absent while parts are still coming. */
  readonly completedAt?: number;
  /** Epoch seconds (the table's TTL attribute). */
  readonly expiresAt: number;
}

/** The upload under this id, if it has not expired (DynamoDB deletes lazily). */
export async function getMediaUpload(deps: Deps, mediaId: string): Promise<MediaUploadRecord | undefined> {
  const { Item } = await deps.clients.db.send(new GetCommand({ TableName: tableName(deps, 'mediaUploads'), Key: { mediaId }, ConsistentRead: true }));
  const record = Item as MediaUploadRecord | undefined;
  return record && record.expiresAt * 1000 > deps.now() ? record : undefined;
}

/** Records a new upload; its mediaId is fresh, so an existing item means a bug, not a race: refuse it. */
export async function putMediaUpload(deps: Deps, record: MediaUploadRecord): Promise<void> {
  await deps.clients.db.send(
    new PutCommand({ TableName: tableName(deps, 'mediaUploads'), Item: record, ConditionExpression: 'attribute_not_exists(mediaId)' }),
  );
}

/** Marks the upload complete, so that a repeated `/complete` answers again instead of failing. */
export async function markMediaUploadCompleted(deps: Deps, mediaId: string, completedAt: number): Promise<void> {
  await deps.clients.db.send(
    new UpdateCommand({
      TableName: tableName(deps, 'mediaUploads'),
      Key: { mediaId },
      UpdateExpression: 'SET completedAt = :at',
      ExpressionAttributeValues: { ':at': completedAt },
    }),
  );
}
