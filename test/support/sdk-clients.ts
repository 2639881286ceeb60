/**
 * SDK clients on the local stack for end-to-end tests: register (reading the code from the SMS the local
 * SNS endpoint recorded), link, and record every event a client emits so a test can wait for one.
 */
import { ParleyClient, type ParleyClientOptions } from '../../client/parley-client';
import type { ParleyEvents } from '../../client/events';
import type { KeyValueStore } from '../../client/store/key-value-store';
import { MemoryStore } from '../../client/store/memory-store';
import type { ParleyLocal } from '../../local/runtime';

export interface TestClient {
  readonly client: ParleyClient;
  readonly store: KeyValueStore;
  readonly events: RecordedEvents;
  /** The link code a linked device was linked with. */
  readonly linkToken?: string;
}

type Recorded = { [K in keyof ParleyEvents]: ParleyEvents[K][] };

/** Every event of a client, in order, with a way to wait for one. */
export class RecordedEvents {
  readonly seen: Recorded = { presence: [], typing: [], message: [], receipt: [], groupUpdate: [], connection: [], undecryptable: [], gap: [], identityChanged: [], provisioned: [], expired: [], error: [] };
  private readonly waiters: { check: () => boolean; resolve: () => void }[] = [];

  constructor(client: ParleyClient) {
    for (const name of Object.keys(this.seen) as (keyof ParleyEvents)[]) {
      client.on(name, (event: unknown) => {
        (this.seen[name] as unknown[]).push(event);
        for (const waiter of [...this.waiters]) if (waiter.check()) waiter.resolve();
      });
    }
  }

  /** Resolves with the first recorded event of `name` that matches, now or when it comes. */
  async waitFor<K extends keyof ParleyEvents>(name: K, match: (event: ParleyEvents[K]) => boolean = () => true, timeoutMs = 5000): Promise<ParleyEvents[K]> {
    const find = () => (this.seen[name] as ParleyEvents[K][]).find(match);
    const found = find();
    if (found) return found;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${String(name)} event matched within ${timeoutMs} ms; got ${JSON.stringify(this.seen[name])}`)), timeoutMs);
      const waiter = { check: () => find() !== undefined, resolve: () => (clearTimeout(timer), this.waiters.splice(this.waiters.indexOf(waiter), 1), resolve()) };
      this.waiters.push(waiter);
    });
    return find()!;
  }

  texts(): string[] {
    return this.seen.message.map((message) => message.text ?? '');
  }
}

const options = (parley: ParleyLocal, store: KeyValueStore): ParleyClientOptions => ({
  httpUrl: parley.httpUrl,
  webSocketUrl: parley.webSocketUrl,
  store,
  backoff: { initialMs: 100, maxMs: 1000 },
  // 20 one-time prekeys of each kind rather than the SDK's 100: a test device is reached by at most a dozen
  // others, and generating, signing and storing the other 160 keys cost ~0.25 s of CPU per registered device
  // (the pool's own behaviour is tested in test/client/prekeys.test.ts).
  prekeys: { poolSize: 20 },
});

async function started(client: ParleyClient, store: KeyValueStore): Promise<TestClient> {
  const events = new RecordedEvents(client);
  await client.connect();
  return { client, store, events };
}

/** `now`: the device's clock, for tests that drive it. */
export async function registerClient(parley: ParleyLocal, phoneNumber: string, store: KeyValueStore = new MemoryStore(), now?: () => number): Promise<TestClient> {
  const since = Date.now();
  await ParleyClient.requestVerificationCode(parley, phoneNumber);
  const sms = await parley.emulators.sns.waitFor((d) => d.kind === 'sms' && d.to === phoneNumber && d.at >= since, 5000);
  const code = /(\d{6})/.exec(sms.message)![1]!;
  const client = await ParleyClient.register({ ...options(parley, store), phoneNumber, code, deviceName: 'Phone', ...(now ? { now } : {}) });
  return started(client, store);
}

/**
 * Links a device with a token `by` shows, and resolves once `by` has provisioned it, so that tests see the
 * provisioning messages settled. A given token without its secret (a bare server token) leaves the device unprovisioned.
 */
export async function linkClient(parley: ParleyLocal, by: TestClient, deviceName: string, store: KeyValueStore = new MemoryStore(), linkToken?: string): Promise<TestClient> {
  linkToken ??= (await by.client.createLinkToken()).linkToken;
  const linked = await started(await ParleyClient.link({ ...options(parley, store), linkToken, deviceName }), store);
  if (linkToken.includes('.')) await linked.events.waitFor('provisioned', () => true, 15_000);
  return { ...linked, linkToken };
}

/** Opens a device again from its store, as an app does at its next start. */
export async function reopenClient(parley: ParleyLocal, store: KeyValueStore, now?: () => number): Promise<TestClient> {
  return started(await ParleyClient.open({ ...options(parley, store), ...(now ? { now } : {}) }), store);
}
