/**
 * Acknowledges handled messages with DELIVERED in batches: what is handled within a short window, up to
 * the protocol's 100 ids, goes in one frame (each DELIVERED is a billed message and an invocation).
 */
export class DeliveryAcknowledger {
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (msgIds: string[]) => Promise<void>,
    private readonly windowMs = 10,
    private readonly maxIds = 100,
  ) {}

  add(msgId: string): void {
    this.pending.push(msgId);
    if (this.pending.length >= this.maxIds) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
  }

  /** Sends what is pending now. A failed send is dropped: the queue hands those messages out again on the next SYNC. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length) {
      const batch = this.pending.splice(0, this.maxIds);
      void this.send(batch).catch(() => undefined);
    }
  }

  /** Forgets what is pending (the connection is gone: a SYNC will hand it out again). */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }
}
