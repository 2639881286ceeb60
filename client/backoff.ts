/**
 * When to try reconnecting: 1 s, doubling to at most 60 s, each delay drawn between half and all of its
 * step ("equal jitter"), so thousands of clients dropped at once by one outage do not return together,
 * and none retries sooner than half the schedule.
 */
export interface BackoffOptions {
  /** First delay. @default 1000 ms */
  readonly initialMs?: number;
  /** Largest delay. @default 60000 ms */
  readonly maxMs?: number;
  /** Random numbers in [0, 1). @default Math.random */
  readonly random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 1000;
    this.maxMs = options.maxMs ?? 60_000;
    this.random = options.random ?? Math.random;
  }

  /** The step of the schedule before jitter, for the attempt after `failures` failures in a row. */
  ceilingMs(failures: number): number {
    return Math.min(this.maxMs, this.initialMs * 2 ** Math.min(failures, 30));
  }

  /** The delay before the next attempt; each call counts one more failure. */
  nextDelayMs(): number {
    const ceiling = this.ceilingMs(this.attempt++);
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  /** After a healthy connection: the next failure waits the shortest delay again. */
  reset(): void {
    this.attempt = 0;
  }
}
