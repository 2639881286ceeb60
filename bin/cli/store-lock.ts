/**
 * One command at a time per store. Two processes on one device would each hold a WebSocket as that device,
 * and the server keeps only the newer (the older is closed), while both write the same Signal sessions:
 * so the second command refuses to start and says which process holds the store.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { CliError } from './errors';

const LOCK_FILE = 'parley.lock';

export interface StoreLock {
  release(): Promise<void>;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the store's lock, or throws a CliError naming the process that holds it; a dead holder's lock is taken over. */
export async function lockStore(directory: string, command: string): Promise<StoreLock> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const file = path.join(directory, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(JSON.stringify({ pid: process.pid, command }));
      await handle.close();
      return { release: () => rm(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as { pid?: number; command?: string };
      if (holder.pid && isRunning(holder.pid)) {
        throw new CliError(
          `the store ${directory} is in use by \`parley ${holder.command ?? '…'}\` (process ${holder.pid}): stop that one first, or give this command a device of its own (parley --store OTHER link <token> <name>)`,
        );
      }
      await rm(file, { force: true }); // left by a process that is gone
    }
  }
  throw new CliError(`could not lock the store ${directory}: another command keeps taking it`);
}
