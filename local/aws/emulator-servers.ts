/**
 * The DynamoDB and Kinesis emulators as HTTP servers, not yet listening: made the same way whether they run
 * on the main thread (`startAwsEmulators`) or on their own (`local/aws/emulator-thread.ts`).
 */
import type { Server } from 'node:http';
import dynalite from 'dynalite';
import kinesalite from 'kinesalite';

/** The services whose emulators may run on a thread of their own. */
export type ThreadedService = 'dynamodb' | 'kinesis';

// Tables and streams are ACTIVE at once: a local start should not wait half a second for each.

/** dynalite, in memory or in a LevelDB under `directory`. */
export function dynamoDbServer(directory: string | undefined): Server {
  return dynalite({ ...(directory ? { path: directory } : {}), createTableMs: 0, updateTableMs: 0, deleteTableMs: 0 });
}

/** kinesalite, in memory or in a LevelDB under `directory`. */
export function kinesisServer(directory: string | undefined): Server {
  // kinesalite allows 10 shards per account; AWS allows hundreds, and test suites make many small streams.
  return kinesalite({ ...(directory ? { path: directory } : {}), createStreamMs: 0, updateStreamMs: 0, deleteStreamMs: 0, shardLimit: 500 });
}
