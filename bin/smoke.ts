#!/usr/bin/env -S npx tsx
/**
 * `npm run smoke`: a short end-to-end chat against any Parley stack, local or deployed, through the client
 * SDK's public API and nothing else: two users register, Alice sends Bob a message and gets its ticks (sent,
 * delivered, read), Bob goes offline, Alice sends two more, and Bob gets both by SYNC when he comes back.
 *
 *   npm run smoke -- --http https://… --ws wss://… --phone-a +1… --code-a 123456 --phone-b +1… --code-b 654321
 *
 * Registering needs the SMS codes, which a deployed stack only sends by SMS: the operator keeps two test
 * numbers, asks for their codes (`--request-codes` asks the stack and exits) and passes them in. Without
 * a `--code-*` the tool asks for the code and reads it at the terminal. Registering a number again signs out
 * that account's other devices: use numbers kept for this alone.
 */
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { MemoryStore, ParleyClient, receiptCovers, type ParleyClientOptions, type SentMessage } from '../client';
import type { ParleyEvents } from '../client';

export interface SmokeAccount {
  readonly phoneNumber: string;
  /** The verification code the stack sent to `phoneNumber` (asked for beforehand). */
  readonly code: string;
}

export interface SmokeStep {
  readonly name: string;
  readonly passed: boolean;
  readonly ms: number;
  readonly error?: string;
}

export interface SmokeOptions {
  readonly httpUrl: string;
  readonly webSocketUrl: string;
  /** Alice and Bob. */
  readonly accounts: readonly [SmokeAccount, SmokeAccount];
  /** Called with each step as it ends. */
  readonly log?: (step: SmokeStep) => void;
  /** How long a step may wait for an event. @default 15000 */
  readonly stepTimeoutMs?: number;
}

export interface SmokeResult {
  readonly passed: boolean;
  readonly steps: SmokeStep[];
}

/** The events of one client, recorded from its start, with a way to wait for one. */
class Recorder {
  private readonly seen: { [K in keyof ParleyEvents]?: ParleyEvents[K][] } = {};
  private readonly waiters = new Set<() => void>();

  constructor(client: ParleyClient) {
    for (const name of ['message', 'receipt', 'undecryptable'] as const) {
      client.on(name, (event: unknown) => {
        (this.seen[name] ??= [] as never[]).push(event as never);
        for (const wake of [...this.waiters]) wake();
      });
    }
  }

  all<K extends 'message' | 'receipt' | 'undecryptable'>(name: K): ParleyEvents[K][] {
    return (this.seen[name] ?? []) as ParleyEvents[K][];
  }

  async waitFor<K extends 'message' | 'receipt'>(name: K, what: string, match: (event: ParleyEvents[K]) => boolean, timeoutMs: number): Promise<ParleyEvents[K]> {
    const find = () => this.all(name).find(match);
    let found = find();
    if (found) return found;
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        if (!find()) return;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        const undecryptable = this.all('undecryptable').map((u) => u.reason);
        reject(new Error(`no ${what} within ${timeoutMs} ms${undecryptable.length ? `; undecryptable: ${undecryptable.join(', ')}` : ''}`));
      }, timeoutMs);
      this.waiters.add(wake);
    });
    found = find();
    return found!;
  }
}

interface Device {
  client: ParleyClient;
  events: Recorder;
  store: MemoryStore;
}

/** Runs the smoke chat; stops at the first failed step (the later ones build on it) and closes its clients. */
export async function runSmoke(options: SmokeOptions): Promise<SmokeResult> {
  const timeout = options.stepTimeoutMs ?? 15_000;
  const endpoints = { httpUrl: options.httpUrl, webSocketUrl: options.webSocketUrl };
  const clientOptions = (store: MemoryStore): ParleyClientOptions => ({ ...endpoints, store, backoff: { initialMs: 200, maxMs: 2000 } });
  const steps: SmokeStep[] = [];
  const opened: ParleyClient[] = [];

  const step = async (name: string, run: () => Promise<void>): Promise<void> => {
    const started = performance.now();
    try {
      await run();
      record({ name, passed: true, ms: Math.round(performance.now() - started) });
    } catch (error) {
      record({ name, passed: false, ms: Math.round(performance.now() - started), error: (error as Error).message });
      throw new StepFailed();
    }
  };
  const record = (result: SmokeStep) => {
    steps.push(result);
    options.log?.(result);
  };
  const connected = async (client: ParleyClient, store: MemoryStore): Promise<Device> => {
    opened.push(client);
    const events = new Recorder(client);
    await client.connect();
    return { client, events, store };
  };
  const register = async ({ phoneNumber, code }: SmokeAccount, deviceName: string): Promise<Device> => {
    const store = new MemoryStore();
    return connected(await ParleyClient.register({ ...clientOptions(store), phoneNumber, code, deviceName }), store);
  };
  const expect = (condition: boolean, message: string) => {
    if (!condition) throw new Error(message);
  };

  let alice!: Device;
  let bob!: Device;
  try {
    await step('register Alice and connect', async () => void (alice = await register(options.accounts[0], 'Smoke test A')));
    await step('register Bob and connect', async () => void (bob = await register(options.accounts[1], 'Smoke test B')));

    const text = `Smoke test ${new Date().toISOString()}`;
    let msgId!: string;
    let first!: SentMessage;
    await step('Alice sends Bob a message: ACK (one tick)', async () => {
      const sent = (first = await alice.client.send(bob.client.userId, text));
      msgId = sent.msgId;
      await alice.events.waitFor('receipt', 'sent receipt', (r) => r.status === 'sent' && r.msgIds.includes(msgId), timeout);
    });
    await step('Bob receives and decrypts it', async () => {
      const message = await bob.events.waitFor('message', 'message', (m) => m.msgId === msgId, timeout);
      expect(message.text === text, `decrypted text ${JSON.stringify(message.text)}, expected ${JSON.stringify(text)}`);
      expect(message.from.userId === alice.client.userId, `from ${message.from.userId}, expected Alice ${alice.client.userId}`);
    });
    await step('Alice gets delivered (two ticks)', async () => {
      await alice.events.waitFor('receipt', 'delivered receipt', (r) => r.status === 'delivered' && receiptCovers(r, first) && r.by.userId === bob.client.userId, timeout);
    });
    await step('Bob marks it read: Alice gets read (blue ticks)', async () => {
      await bob.client.markRead(bob.client.conversationWith(alice.client.userId), msgId);
      await alice.events.waitFor('receipt', 'read receipt', (r) => r.status === 'read' && r.msgIds.includes(msgId) && r.by.userId === bob.client.userId, timeout);
    });

    const offline = [`${text} (offline 1)`, `${text} (offline 2)`];
    const offlineIds: string[] = [];
    const offlineSent: SentMessage[] = [];
    await step('Bob disconnects; Alice sends two more: ACKed', async () => {
      bob.client.close();
      for (const words of offline) offlineSent.push(await alice.client.send(bob.client.userId, words));
      offlineIds.push(...offlineSent.map((sent) => sent.msgId));
    });
    await step('Bob reconnects and gets both by SYNC, in order', async () => {
      bob = await connected(await ParleyClient.open(clientOptions(bob.store)), bob.store);
      for (const id of offlineIds) await bob.events.waitFor('message', 'offline message', (m) => m.msgId === id, timeout);
      const got = bob.events.all('message').filter((m) => offlineIds.includes(m.msgId)).map((m) => m.text);
      expect(JSON.stringify(got) === JSON.stringify(offline), `got ${JSON.stringify(got)}, expected ${JSON.stringify(offline)}`);
    });
    await step('Alice gets delivered for both', async () => {
      // One state covers both: delivered up to the later one.
      for (const sent of offlineSent) await alice.events.waitFor('receipt', 'delivered receipt', (r) => r.status === 'delivered' && receiptCovers(r, sent), timeout);
      const undecryptable = [...alice.events.all('undecryptable'), ...bob.events.all('undecryptable')];
      expect(undecryptable.length === 0, `undecryptable messages: ${undecryptable.map((u) => u.reason).join(', ')}`);
    });
  } catch (error) {
    if (!(error instanceof StepFailed)) throw error;
  } finally {
    for (const client of opened) client.close();
  }
  return { passed: steps.length === STEP_COUNT && steps.every((s) => s.passed), steps };
}

class StepFailed extends Error {}

/** How many steps a full run has. */
export const STEP_COUNT = 9;

const usage = `npm run smoke -- --http URL --ws URL --phone-a E164 [--code-a CODE] --phone-b E164 [--code-b CODE] [--timeout MS] [--request-codes]
  --http, --ws          the stack's HTTP API and WebSocket URLs (the stack's outputs; \`npm start\` prints its own)
  --phone-a, --phone-b  two test numbers, Alice and Bob (each run registers them again)
  --code-a, --code-b    their verification codes; without one, the tool asks the stack for it and reads it here
  --request-codes       only ask the stack to text both codes, then exit (run again with --code-a/--code-b)
  --timeout             how long a step waits for an event (ms, default 15000)`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      http: { type: 'string' },
      ws: { type: 'string' },
      'phone-a': { type: 'string' },
      'code-a': { type: 'string' },
      'phone-b': { type: 'string' },
      'code-b': { type: 'string' },
      timeout: { type: 'string' },
      'request-codes': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.http || !values.ws || !values['phone-a'] || !values['phone-b']) {
    console.error(usage);
    return values.help ? 0 : 2;
  }
  const httpUrl = values.http;
  const numbers = [values['phone-a'], values['phone-b']] as const;
  if (values['request-codes']) {
    for (const phoneNumber of numbers) await ParleyClient.requestVerificationCode({ httpUrl }, phoneNumber);
    console.log(`Codes sent to ${numbers.join(' and ')}; run again with --code-a and --code-b.`);
    return 0;
  }
  const code = async (phoneNumber: string, given: string | undefined): Promise<string> => {
    if (given) return given;
    if (!process.stdin.isTTY) throw new Error(`no --code for ${phoneNumber}, and no terminal to ask for it at`);
    await ParleyClient.requestVerificationCode({ httpUrl }, phoneNumber);
    const prompt = createInterface({ input: process.stdin, output: process.stdout });
    try {
      return (await prompt.question(`Code sent to ${phoneNumber}: `)).trim();
    } finally {
      prompt.close();
    }
  };
  const accounts = [
    { phoneNumber: numbers[0], code: await code(numbers[0], values['code-a']) },
    { phoneNumber: numbers[1], code: await code(numbers[1], values['code-b']) },
  ] as const;
  console.log(`Smoke test of ${httpUrl} and ${values.ws}`);
  const result = await runSmoke({
    httpUrl,
    webSocketUrl: values.ws,
    accounts,
    ...(values.timeout ? { stepTimeoutMs: Number(values.timeout) } : {}),
    log: (s) => console.log(`${s.passed ? 'PASS' : 'FAIL'} ${s.name} (${s.ms} ms)${s.error ? `: ${s.error}` : ''}`),
  });
  const passed = result.steps.filter((s) => s.passed).length;
  console.log(result.passed ? `All ${passed} steps passed.` : `FAILED at step ${result.steps.length} of ${STEP_COUNT}; ${passed} passed before it.`);
  return result.passed ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    // Exits at once: a client's timers must not keep a finished run waiting.
    (code) => process.exit(code),
    (error: Error) => {
      console.error(`FAIL ${error.message}`);
      process.exit(1);
    },
  );
}
