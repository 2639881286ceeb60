/**
 * The `mediaDigests` table: the dedup index of the media bucket, SHA-256 of an encrypted blob → the mediaId
 * it is stored under. Written when an upload is granted, so an entry may name a blob whose upload never
 * finished: the bucket, not this table, says whether the blob is there.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { tableName, type Deps } from '../runtime/deps';

export interface MediaDigestRecord {
  /** SHA-256 of the encrypted blob, base64. */
  readonly digest: string;
  readonly mediaId: string;
  /** The blob's length in bytes. */
  readonly size: number;
  /** Epoch seconds (the table's TTL attribute): when the blob itself expires. */
  readonly expiresAt: number;
}

/** The entry for a digest, if it has not expired (DynamoDB deletes lazily). */
export async function getMediaDigest(deps: Deps, digest: string): Promise<MediaDigestRecord | undefined> {
  const { Item } = await deps.clients.db.send(new GetCommand({ TableName: tableName(deps, 'mediaDigests'), Key: { digest } }));
  const record = Item as MediaDigestRecord | undefined;
  return record && record.expiresAt * 1000 > deps.now() ? record : undefined;
}

/** Points the digest at a new upload; the last upload granted wins (the bytes are the same either way). */
export async function putMediaDigest(deps: Deps, record: MediaDigestRecord): Promise<void> {
  await deps.clients.db.send(new PutCommand({ TableName: tableName(deps, 'mediaDigests'), Item: record }));
}
