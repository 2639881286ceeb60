/**
 * One device in the demo: an SDK client that prints what its screen would show and remembers every message
 * it decrypted, so the demo can check that each one reached every device it was meant for.
 */
import { MemoryStore, ParleyClient, type IncomingMessage, type ParleyClientOptions, type ParleyEndpoints } from '../../client';
import type { KeyValueStore } from '../../client/store/key-value-store';

export class DemoDevice {
  /** msgId → the text this device decrypted. */
  readonly received = new Map<string, string>();
  private client!: ParleyClient;
  private waiters: (() => void)[] = [];

  constructor(
    /** "Alice's phone" */
    readonly label: string,
    private readonly endpoints: ParleyEndpoints,
    private readonly nameOf: (userId: string) => string,
    private readonly print: (line: string) => void,
    readonly store: KeyValueStore = new MemoryStore(),
  ) {}

  get sdk(): ParleyClient {
    return this.client;
  }

  /** Registers, links or opens the device and connects it (its queue arrives by SYNC); answers how many messages that brought. */
  async start(make: (options: ParleyClientOptions) => Promise<ParleyClient>): Promise<number> {
    const before = this.received.size;
    this.client = await make({ ...this.endpoints, store: this.store });
    this.client.on('message', (m) => this.show(m));
    this.client.on('receipt', (r) => {
      if (r.status === 'delivered' || r.status === 'read') this.print(`  ${this.label.padEnd(16)} ${r.status === 'read' ? '✓✓ read' : '✓✓ delivered'} by ${this.nameOf(r.by.userId)}${r.everyone ? ' (everyone)' : ''}`);
    });
    await this.client.connect();
    return this.received.size - before;
  }

  stop(): void {
    this.client.close();
    this.print(`  ${this.label.padEnd(16)} goes offline`);
  }

  /** Resolves once this device has decrypted every one of `msgIds` (or rejects after `timeoutMs`). */
  async waitFor(msgIds: readonly string[], timeoutMs = 10_000): Promise<void> {
    const done = () => msgIds.every((id) => this.received.has(id));
    if (done()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.label} did not get ${msgIds.filter((id) => !this.received.has(id)).length} message(s) within ${timeoutMs} ms`)), timeoutMs);
      const check = () => done() && (clearTimeout(timer), (this.waiters = this.waiters.filter((w) => w !== check)), resolve());
      this.waiters.push(check);
    });
  }

  private show(message: IncomingMessage): void {
    const text = message.text ?? '';
    this.received.set(message.msgId, text);
    const where = message.groupId ? ' [group]' : '';
    this.print(`  ${this.label.padEnd(16)} ${message.outgoing ? 'you' : this.nameOf(message.from.userId)}${where}: ${text}`);
    for (const waiter of [...this.waiters]) waiter();
  }
}
