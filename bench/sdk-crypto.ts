/**
 * What the client SDK's Signal protocol work costs on this machine, in this process, with in-memory
 * stores: full session setups (the initiator's PQXDH from a fetched bundle, its first message, and the
 * responder's decryption of that PreKeySignalMessage) and 1:1 messages of 200 bytes (content encoding,
 * encryption, decryption, decoding), both in one direction and as replies that each turn the ratchet.
 */
import { performance } from 'node:perf_hooks';
import { decodeContent, encodeContent } from '../client/content';
import { InMemoryKeyDirectory } from '../test/support/in-memory-key-directory';
import { sdkDevice, type SdkDevice } from '../test/support/sdk-device';

export interface SdkCryptoRun {
  readonly sessionSetups: {
    readonly count: number;
    readonly perSecond: number;
    readonly msEach: number;
    /** The first message of a session (a PreKeySignalMessage, with its Kyber ciphertext), for a 200-byte text. */
    readonly firstMessageBytes: number;
  };
  readonly messages: {
    readonly plaintextBytes: number;
    /** Alice sends, Bob receives: each message advances the sending chain only. */
    readonly oneDirection: MessageCost;
    /** Alice and Bob take turns: each message is a reply and turns the ratchet. */
    readonly alternating: MessageCost;
  };
}

export interface MessageCost {
  readonly count: number;
  /** Encode, encrypt, decrypt and decode one message. */
  readonly usEach: number;
  readonly perSecond: number;
  readonly ciphertextBytes: number;
}

const TEXT = 'x'.repeat(200);

async function roundTrip(from: SdkDevice, to: SdkDevice): Promise<number> {
  const envelope = await from.sessions.encrypt(to.self, encodeContent({ text: TEXT, sentAt: Date.now() }));
  const content = decodeContent(await to.sessions.decrypt(from.self, envelope));
  if (content.text !== TEXT) throw new Error('the message did not survive the round trip');
  return Buffer.from(envelope.ciphertext, 'base64').length;
}

async function timeMessages(count: number, next: (i: number) => [SdkDevice, SdkDevice]): Promise<MessageCost> {
  let bytes = 0;
  const started = performance.now();
  for (let i = 0; i < count; i++) bytes = await roundTrip(...next(i));
  const ms = performance.now() - started;
  return { count, usEach: Math.round((ms * 1000) / count), perSecond: Math.round(count / (ms / 1000)), ciphertextBytes: bytes };
}

export async function measureSdkCrypto(sessions: number, messages: number): Promise<SdkCryptoRun> {
  const directory = new InMemoryKeyDirectory();
  // Bob publishes a one-time prekey of each kind per session to come; the Alices only their signed keys.
  const bob = await sdkDevice(directory, undefined, { policy: { poolSize: sessions } });
  const alices = await Promise.all(Array.from({ length: sessions }, () => sdkDevice(directory, undefined, { policy: { poolSize: 0 } })));
  const bundles = [];
  for (const alice of alices) bundles.push((await directory.forDevice(alice.self.userId, 1).fetchBundles([{ userId: bob.self.userId }]))[0]!.devices[0]!);

  let firstMessageBytes = 0;
  const started = performance.now();
  for (let i = 0; i < sessions; i++) {
    const alice = alices[i]!;
    await alice.sessions.startSession(bob.self.userId, bundles[i]!);
    firstMessageBytes = await roundTrip(alice, bob);
  }
  const setupMs = performance.now() - started;

  const [alice] = alices as [SdkDevice];
  await roundTrip(bob, alice); // Bob replies: from now on Alice sends SignalMessages
  const sessionSetups = { count: sessions, perSecond: Math.round(sessions / (setupMs / 1000)), msEach: Math.round((setupMs / sessions) * 100) / 100, firstMessageBytes };
  const oneDirection = await timeMessages(messages, () => [alice, bob]);
  const alternating = await timeMessages(messages, (i) => (i % 2 ? [bob, alice] : [alice, bob]));
  return { sessionSetups, messages: { plaintextBytes: TEXT.length, oneDirection, alternating } };
}
