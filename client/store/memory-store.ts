import type { KeyValueStore } from './key-value-store';

/**
 * A store that lives as long as the process: for tests, benchmarks and bots that register afresh on
 * every start. Values are copied in and out, so a caller's later change to a buffer changes nothing here.
 *
 * @example
 * const client = await ParleyClient.register({ ...endpoints, store: new MemoryStore(), phoneNumber, code });
 */
export class MemoryStore implements KeyValueStore {
  private readonly data = new Map<string, Map<string, Uint8Array>>();

  async get(namespace: string, key: string): Promise<Uint8Array | undefined> {
    const value = this.data.get(namespace)?.get(key);
    return value && Uint8Array.from(value);
  }

  async put(namespace: string, key: string, value: Uint8Array): Promise<void> {
    let entries = this.data.get(namespace);
    if (!entries) this.data.set(namespace, (entries = new Map()));
    entries.set(key, Uint8Array.from(value));
  }

  async delete(namespace: string, key: string): Promise<void> {
    this.data.get(namespace)?.delete(key);
  }

  async keys(namespace: string): Promise<string[]> {
    return [...(this.data.get(namespace)?.keys() ?? [])];
  }
}
