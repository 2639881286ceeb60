/**
 * Tells of every record stored by a kinesalite server, so readers can fetch it at once instead of polling
 * each shard every few milliseconds: through the SDK a poll costs milliseconds of CPU, and polling alone
 * could not keep latency low without keeping a core busy.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** Records stored on one stream, by the hash keys that place them on shards. */
export interface KinesisPut {
  readonly streamName: string;
  readonly hashKeys: readonly bigint[];
}

export interface KinesisPutFeed {
  /** Calls `listener` after each successful PutRecord or PutRecords; returns the unsubscribe. */
  subscribe(listener: (put: KinesisPut) => void): () => void;
}

interface PutRequestEntry {
  readonly PartitionKey?: string;
  readonly ExplicitHashKey?: string;
}

interface PutRequest extends PutRequestEntry {
  readonly StreamName?: string;
  readonly Records?: readonly PutRequestEntry[];
}

const PUT_TARGETS = new Set(['Kinesis_20131202.PutRecord', 'Kinesis_20131202.PutRecords']);

/** Watches the requests `server` (kinesalite) answers; a put is told once its record is stored. */
export function watchKinesisPuts(server: Server): KinesisPutFeed {
  const listeners = new Set<(put: KinesisPut) => void>();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (!PUT_TARGETS.has(String(request.headers['x-amz-target']))) return;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    // kinesalite answers after storing, so on `finish` a reader will find the record.
    response.on('finish', () => {
      if (response.statusCode !== 200 || listeners.size === 0) return;
      const put = parsePut(Buffer.concat(chunks).toString('utf8'));
      if (put) for (const listener of listeners) listener(put);
    });
  });
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Where Kinesis places a record: the explicit hash key, or else the MD5 of the partition key as a 128-bit number. */
export function hashKeyOf({ PartitionKey = '', ExplicitHashKey }: PutRequestEntry): bigint {
  if (ExplicitHashKey) return BigInt(ExplicitHashKey);
  return BigInt(`0x${createHash('md5').update(PartitionKey, 'utf8').digest('hex')}`);
}

/** The put, or nothing for a body that is not JSON (the SDK sends JSON; readers still poll now and then). */
function parsePut(body: string): KinesisPut | undefined {
  try {
    const request = JSON.parse(body) as PutRequest;
    if (!request.StreamName) return undefined;
    return { streamName: request.StreamName, hashKeys: (request.Records ?? [request]).map(hashKeyOf) };
  } catch {
    return undefined;
  }
}
