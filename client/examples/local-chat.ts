#!/usr/bin/env -S npx tsx
/**
 * The client SDK end to end, runnable with nothing else: `npx tsx client/examples/local-chat.ts`.
 * Starts Parley's local stack in this process, registers Alice and Bob, links Alice's tablet, and has
 * them chat with Signal-protocol encryption, printing every event. Against a deployed stack or `npm start`,
 * only the endpoints and where the SMS code comes from differ.
 */
import { useLocalProcessEnvironment } from '../../local/process-environment';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { MemoryStore, ParleyClient, type IncomingMessage, type ParleyEndpoints } from '../index';

/** The verification code, read from the SMS the local stack's SNS endpoint recorded (a person reads it on the phone). */
async function smsCode(parley: ParleyLocal, phoneNumber: string): Promise<string> {
  const sms = await parley.emulators.sns.waitFor((delivery) => delivery.kind === 'sms' && delivery.to === phoneNumber, 5000);
  return /(\d{6})/.exec(sms.message)![1]!;
}

async function register(parley: ParleyLocal, endpoints: ParleyEndpoints, phoneNumber: string): Promise<ParleyClient> {
  await ParleyClient.requestVerificationCode(endpoints, phoneNumber);
  return ParleyClient.register({ ...endpoints, store: new MemoryStore(), phoneNumber, code: await smsCode(parley, phoneNumber) });
}

/** Runs the chat, printing each event as it comes. */
export async function runLocalChat(print: (line: string) => void = console.log): Promise<void> {
  const parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0 });
  const endpoints = { httpUrl: parley.httpUrl, webSocketUrl: parley.webSocketUrl };
  const clients: ParleyClient[] = [];
  try {
    const alice = await register(parley, endpoints, '+14155550100');
    const { linkToken } = await alice.createLinkToken();
    const aliceTablet = await ParleyClient.link({ ...endpoints, store: new MemoryStore(), linkToken, deviceName: 'Tablet' });
    const bob = await register(parley, endpoints, '+14155550199');
    clients.push(alice, aliceTablet, bob);

    const names = new Map([[alice.userId, 'Alice'], [bob.userId, 'Bob']]);
    for (const [device, label] of [[alice, 'Alice’s phone'], [aliceTablet, 'Alice’s tablet'], [bob, 'Bob']] as const) {
      device.on('message', (m) => print(`${label} got ${m.outgoing ? 'a copy of its own' : 'a message'} from ${names.get(m.from.userId)} (device ${m.from.deviceId}): ${m.text}`));
      device.on('receipt', (r) => print(`${label} sees ${r.status}${r.status === 'sent' ? '' : ` by ${names.get(r.by.userId)}`}`));
      await device.connect();
    }

    const bobGets = new Promise<IncomingMessage>((resolve) => bob.on('message', resolve));
    await alice.send(bob.userId, 'Hello Bob!');
    const hello = await bobGets;
    await bob.send(alice.userId, 'Hi Alice, got it.');
    await bob.markRead(hello.conversationId, hello.msgId);
    // Time for the last ticks to come back before everything stops.
    await new Promise((resolve) => setTimeout(resolve, 500));
  } finally {
    for (const client of clients) client.close();
    await parley.stop();
  }
}

if (require.main === module) {
  useLocalProcessEnvironment('SILENT');
  runLocalChat().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
