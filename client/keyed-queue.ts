/**
 * Runs tasks one at a time per key, in the order they were queued; different keys run concurrently.
 * libsignal does no locking: two operations on one remote address's session at once corrupt it, so every
 * session operation of the SDK goes through one of these, keyed by address.
 *
 * @example
 * const queue = new KeyedQueue();
 * await Promise.all([queue.run('bob.1', () => encrypt(a)), queue.run('bob.1', () => encrypt(b))]); // one after the other
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    // The tail never rejects, so one failed task does not fail the ones queued after it.
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with work queued or running. */
  get activeKeys(): number {
    return this.tails.size;
  }
}
