import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits `ms`, or less if `signal` aborts first. It never rejects on abort: a stopping loop simply wakes
 * up and reaches its own exit check.
 */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    if (!signal?.aborted) throw error;
  }
}

export interface WaitUntilOptions {
  /** Time between checks; default 20 ms, as the local emulators change state within milliseconds. */
  readonly intervalMs?: number;
  /** Default 10 s. */
  readonly timeoutMs?: number;
}

/** Checks `condition` until it holds; rejects after the timeout with an error naming `what` it waited for. */
export async function waitUntil(
  condition: () => Promise<boolean>,
  what: string,
  { intervalMs = 20, timeoutMs = 10_000 }: WaitUntilOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * A wake-up call for a loop that otherwise sleeps between polls. A ring while the loop is busy is kept for
 * its next wait, so work announced during a poll is not slept through.
 */
export class Doorbell {
  private rung = false;
  private wake: (() => void) | undefined;

  ring(): void {
    this.rung = true;
    this.wake?.();
  }

  /** Forgets earlier rings: call just before looking for work, so only rings after that count. */
  clear(): void {
    this.rung = false;
  }

  /** Resolves on a ring (at once if one came since the last `clear`), after `ms`, or when `signal` aborts. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.rung || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }
}
