/**
 * Where each shard's reading got to, kept on disk as Lambda keeps it for an event source mapping: the
 * sequence number of the last record whose batch was settled (handled, or handed to the on-failure
 * destination). After a restart a shard resumes right after it, so records put while the runtime was down
 * are handled, and records handled before are not handled again.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface ShardCheckpoints {
  /** The last settled sequence number of the shard, if any. */
  lastSettled(shardId: string): string | undefined;
  /** Records that the shard's records up to `sequenceNumber` are settled. */
  settled(shardId: string, sequenceNumber: string): Promise<void>;
}

/** Checkpoints in one JSON file (`{ shardId: sequenceNumber }`), replaced whole on each write so a crash leaves the old one or the new one. */
export async function fileCheckpoints(file: string): Promise<ShardCheckpoints> {
  let positions: Record<string, string> = {};
  try {
    positions = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`Unreadable checkpoints ${file}: ${String(error)}`);
  }
  await mkdir(path.dirname(file), { recursive: true });
  // Shards settle concurrently; their writes of the one file go one after another.
  let writing = Promise.resolve();
  return {
    lastSettled: (shardId) => positions[shardId],
    settled(shardId, sequenceNumber) {
      positions = { ...positions, [shardId]: sequenceNumber };
      const snapshot = JSON.stringify(positions);
      writing = writing.catch(() => undefined).then(async () => {
        await writeFile(`${file}.tmp`, snapshot);
        await rename(`${file}.tmp`, file);
      });
      return writing;
    },
  };
}
