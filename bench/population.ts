/**
 * The users of the bench: pairs of accounts (Alice_i → Bob_i), each with a phone and a linked second
 * device, all connected; and how a SEND from Alice_i's phone to Bob_i is built.
 */
import { randomBytes } from 'node:crypto';
import type { ParleyLocal } from '../local/runtime';
import { directConversationId } from '../lambdas/send/conversations';
import { linkDevice, registerAccount, type TestDevice } from '../test/support/device-client';
import { BenchDevice, newMsgId, sealedPreview } from './device';

/** Bytes of each envelope's ciphertext: about what a short text is once Signal has encrypted it. */
export const CIPHERTEXT_BYTES = 160;

export interface Pair {
  readonly conversationId: string;
  /** Alice's phone (the sender) and tablet. */
  readonly alice: BenchDevice[];
  /** Bob's phone and laptop: the recipient devices whose PUSH is timed. */
  readonly bob: BenchDevice[];
}

let phoneCounter = 0;
/** A fresh E.164 number per account (one verification code per number per minute). */
const nextPhone = () => `+1415${String(5_000_000 + ++phoneCounter).padStart(7, '0')}`;

/** Registers an account with `devices` devices (the phone, then linked ones). */
export async function registerUser(parley: ParleyLocal, devices: number): Promise<TestDevice[]> {
  const phone = await registerAccount(parley, nextPhone());
  const all = [phone];
  for (let i = 1; i < devices; i++) all.push(await linkDevice(parley, phone, `Device ${i + 1}`));
  return all;
}

export async function createPairs(parley: ParleyLocal, count: number): Promise<Pair[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const [aliceCredentials, bobCredentials] = await Promise.all([registerUser(parley, 2), registerUser(parley, 2)]);
      const connect = (all: TestDevice[]) => Promise.all(all.map((credentials) => BenchDevice.connect(parley, credentials)));
      return {
        conversationId: directConversationId(aliceCredentials[0]!.userId, bobCredentials[0]!.userId),
        alice: await connect(aliceCredentials),
        bob: await connect(bobCredentials),
      };
    }),
  );
}

/**
 * A SEND from `from` to `to`'s user: one envelope for every device of the recipient and for every other
 * device of the sender, as the server requires, and the sender's chat-list preview.
 */
export function sendFrame(from: TestDevice, to: readonly TestDevice[], ownOthers: readonly TestDevice[], seq: number) {
  const recipient = to[0]!.userId;
  return {
    action: 'SEND',
    msgId: newMsgId(),
    conversationId: directConversationId(from.userId, recipient),
    to: recipient,
    seq,
    envelopes: [...to, ...ownOthers].map((device) => ({
      userId: device.userId,
      deviceId: device.deviceId,
      registrationId: device.registrationId,
      type: 'message',
      ciphertext: randomBytes(CIPHERTEXT_BYTES).toString('base64'),
    })),
    preview: sealedPreview(),
  };
}

/** Alice's phone → Bob, envelopes for Bob's devices and Alice's tablet. */
export function pairMessage(pair: Pair, seq: number) {
  const [phone, ...others] = pair.alice.map((device) => device.credentials);
  return sendFrame(phone!, pair.bob.map((device) => device.credentials), others, seq);
}

export async function closeAll(devices: readonly BenchDevice[]): Promise<void> {
  await Promise.all(devices.map((device) => device.close()));
}
