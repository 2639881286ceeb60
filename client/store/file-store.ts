import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { KeyValueStore } from './key-value-store';

export interface FileStoreOptions {
  /**
   * Flush each write to the disk before it counts as done, so a power cut loses nothing acknowledged.
   * Off, a crash of the process still loses nothing; a crash of the machine may. @default true
   */
  readonly fsync?: boolean;
}

/**
 * A store on disk: one folder per namespace, one file per key (named by the key in base64url), written to
 * a temporary file and renamed over the old one, so a crash leaves either the old value or the new one.
 * The folder holds the device's private keys and credentials: it is created readable by its owner only.
 *
 * @example
 * const store = new FileStore('./alice-phone');
 * const client = await ParleyClient.open({ ...endpoints, store });
 */
export class FileStore implements KeyValueStore {
  private readonly fsync: boolean;
  private readonly made = new Set<string>();

  constructor(
    readonly directory: string,
    options: FileStoreOptions = {},
  ) {
    this.fsync = options.fsync ?? true;
  }

  async get(namespace: string, key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.fileOf(namespace, key)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async put(namespace: string, key: string, value: Uint8Array): Promise<void> {
    const folder = await this.folder(namespace);
    const file = this.fileOf(namespace, key);
    const temporary = path.join(folder, `.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(value);
      if (this.fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  }

  async delete(namespace: string, key: string): Promise<void> {
    await rm(this.fileOf(namespace, key), { force: true });
  }

  async keys(namespace: string): Promise<string[]> {
    try {
      const names = await readdir(path.join(this.directory, namespace));
      return names.filter((name) => !name.startsWith('.')).map((name) => Buffer.from(name, 'base64url').toString('utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  private fileOf(namespace: string, key: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(namespace)) throw new Error(`not a namespace name: ${namespace}`);
    return path.join(this.directory, namespace, Buffer.from(key, 'utf8').toString('base64url'));
  }

  private async folder(namespace: string): Promise<string> {
    const folder = path.join(this.directory, namespace);
    if (!this.made.has(namespace)) {
      await mkdir(folder, { recursive: true, mode: 0o700 });
      this.made.add(namespace);
    }
    return folder;
  }
}
