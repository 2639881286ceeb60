/**
 * `npm run demo`: Alice (phone and laptop), Bob and Carol chat by script through a local stack, and every
 * device prints what it shows. Passes when every message arrived, decrypted, on every device it was meant for.
 */
import { ParleyClient, type ParleyClientOptions, type ParleyEndpoints } from '../../client';
import type { ParleyLocal } from '../../local/runtime';
import { DemoDevice } from './demo-device';

export interface DemoResult {
  /** Messages sent, and (device, message) pairs that were owed. */
  readonly sent: number;
  readonly owed: number;
  /** `<device>: <text>` for each owed message a device did not decrypt. */
  readonly missing: string[];
  /** Why the script stopped before its end, if it did: the demo fails then too. */
  readonly stoppedBy?: string;
}

export interface DemoOptions {
  /** How long a device may take to get a message. @default 10 s */
  readonly waitMs?: number;
}

interface Sent {
  readonly msgId: string;
  readonly text: string;
  readonly to: readonly DemoDevice[];
}

export async function runDemo(parley: ParleyLocal, print: (line: string) => void = console.log, options: DemoOptions = {}): Promise<DemoResult> {
  const waitMs = options.waitMs ?? 10_000;
  const endpoints: ParleyEndpoints = { httpUrl: parley.httpUrl, webSocketUrl: parley.webSocketUrl };
  const names = new Map<string, string>();
  const device = (label: string) => new DemoDevice(label, endpoints, (userId) => names.get(userId) ?? userId, print);
  const register = (phoneNumber: string, name: string) => async (options: ParleyClientOptions) => {
    const since = Date.now();
    await ParleyClient.requestVerificationCode(options, phoneNumber);
    const sms = await parley.emulators.sns.waitFor((d) => d.kind === 'sms' && d.to === phoneNumber && d.at >= since, 5000);
    const client = await ParleyClient.register({ ...options, phoneNumber, code: /(\d{6})/.exec(sms.message)![1]!, deviceName: 'Phone' });
    names.set(client.userId, name);
    return client;
  };

  const alicePhone = device('Alice’s phone');
  const aliceLaptop = device('Alice’s laptop');
  const bobPhone = device('Bob’s phone');
  const carolPhone = device('Carol’s phone');
  const everyone = [alicePhone, aliceLaptop, bobPhone, carolPhone];
  const sent: Sent[] = [];
  let stoppedBy: string | undefined;
  const send = async (from: DemoDevice, to: readonly DemoDevice[], text: string, how: (client: ParleyClient) => Promise<{ msgId: string }>) => {
    const { msgId } = await how(from.sdk);
    print(`  ${from.label.padEnd(16)} ✓ sent: ${text}`);
    sent.push({ msgId, text, to });
    return msgId;
  };
  /** Waits until every device has every message owed to it so far. */
  const settle = () => Promise.all(everyone.map((d) => d.waitFor(sent.filter((m) => m.to.includes(d)).map((m) => m.msgId), waitMs)));

  try {
    print('1. Alice registers her phone and links her laptop; Bob and Carol register');
    await alicePhone.start(register('+14155550101', 'Alice'));
    const { linkToken } = await alicePhone.sdk.createLinkToken();
    await aliceLaptop.start((options) => ParleyClient.link({ ...options, linkToken, deviceName: 'Laptop' }));
    await bobPhone.start(register('+14155550102', 'Bob'));
    await carolPhone.start(register('+14155550103', 'Carol'));
    const [alice, bob, carol] = [alicePhone.sdk.userId, bobPhone.sdk.userId, carolPhone.sdk.userId];

    print('2. Alice and Bob chat, one to one (Alice’s laptop shows her side too)');
    await send(alicePhone, [bobPhone, aliceLaptop], 'Hi Bob! Lunch tomorrow?', (c) => c.send(bob, 'Hi Bob! Lunch tomorrow?'));
    await send(bobPhone, [alicePhone, aliceLaptop], 'Sure, 12:30?', (c) => c.send(alice, 'Sure, 12:30?'));
    await send(aliceLaptop, [bobPhone, alicePhone], 'Perfect (typed on my laptop)', (c) => c.send(bob, 'Perfect (typed on my laptop)'));
    await settle();

    print('3. Alice makes a group with Bob and Carol');
    const group = await alicePhone.sdk.createGroup('Lunch crew', [bob, carol]);
    await send(alicePhone, [bobPhone, carolPhone, aliceLaptop], 'Carol, join us for lunch?', (c) => c.sendToGroup(group.groupId, 'Carol, join us for lunch?'));
    await send(carolPhone, [alicePhone, aliceLaptop, bobPhone], 'Count me in!', (c) => c.sendToGroup(group.groupId, 'Count me in!'));
    await settle();

    print('4. Bob goes offline; Alice and Carol write; Bob comes back and SYNCs');
    bobPhone.stop();
    const whileAway = [
      await send(alicePhone, [bobPhone, aliceLaptop], 'Bob, the place is booked', (c) => c.send(bob, 'Bob, the place is booked')),
      await send(carolPhone, [alicePhone, aliceLaptop, bobPhone], 'See you there', (c) => c.sendToGroup(group.groupId, 'See you there')),
    ];
    await new Promise((resolve) => setTimeout(resolve, 300)); // they wait in Bob's queue meanwhile
    const synced = await bobPhone.start((options) => ParleyClient.open(options));
    print(`  ${bobPhone.label.padEnd(16)} back online: ${synced} message(s) came by SYNC`);
    await bobPhone.waitFor(whileAway, waitMs);

    print('5. Bob reads the conversation: Alice sees the blue ticks');
    const read = new Promise<void>((resolve) =>
      alicePhone.sdk.on('receipt', (r) => {
        if (r.status === 'read' && r.msgIds.includes(whileAway[0]!)) resolve();
      }),
    );
    await bobPhone.sdk.markRead(bobPhone.sdk.conversationWith(alice), whileAway[0]!);
    await within(read, waitMs, 'Alice’s phone saw no read receipt');

    print('6. Alice links a tablet: it catches up on the chat list (last message of each chat, unread counts)');
    const tablet = device('Alice’s tablet');
    const tabletToken = (await alicePhone.sdk.createLinkToken()).linkToken;
    await tablet.start((options) => ParleyClient.link({ ...options, linkToken: tabletToken, deviceName: 'Tablet' }));
    await within(new Promise<void>((resolve) => tablet.sdk.on('provisioned', () => resolve())), 15_000, 'the tablet was never provisioned');
    for (const chat of await tablet.sdk.chatList()) {
      if (!chat.preview) continue; // a conversation that carried only keys (Alice's own devices, Carol's Sender Key)
      const who = chat.conversationId.startsWith('group:') ? group.name : [...names].find(([id]) => id !== alice && chat.conversationId.includes(id))?.[1];
      print(`  ${tablet.label.padEnd(16)} chat with ${who}: “${chat.preview.text ?? 'a file'}”${chat.unreadCount ? ` (${chat.unreadCount} unread)` : ''}`);
    }
    await send(bobPhone, [alicePhone, aliceLaptop, tablet], 'Thanks, see you!', (c) => c.send(alice, 'Thanks, see you!'));
    everyone.push(tablet);
    await settle();
  } catch (error) {
    stoppedBy = (error as Error).message;
    print(`  the demo stopped: ${stoppedBy}`);
  } finally {
    for (const d of everyone) d.sdk?.close();
  }

  const missing = sent.flatMap((m) => m.to.filter((d) => d.received.get(m.msgId) !== m.text).map((d) => `${d.label}: ${m.text}`));
  return { sent: sent.length, owed: sent.reduce((n, m) => n + m.to.length, 0), missing, ...(stoppedBy ? { stoppedBy } : {}) };
}

async function within(promise: Promise<void>, ms: number, failure: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(failure)), ms)))]).finally(() => clearTimeout(timer));
}
