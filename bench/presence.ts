/**
 * Presence and typing: `pairs` of users (Alice_i with 2 devices, Bob_i with 2 devices, both of Bob's
 * watching Alice's presence). Typing: each of Alice's devices sends TYPING to its conversation, alternating
 * `composing` and `paused` every 1.1 s (the server relays one per device, conversation and state every 2 s),
 * timed from the frame to its arrival on each of Bob's devices. Presence: each Alice closes both devices
 * and opens them again (two changes: offline, then online), counted per change. The AWS requests of each
 * are priced per million with the 1:1 cost model.
 */
import { performance } from 'node:perf_hooks';
import type { ParleyLocal } from '../local/runtime';
import { directConversationId } from '../lambdas/send/conversations';
import { TYPING_INTERVAL_MS } from '../lambdas/presence/typing-relay';
import { costPerMessage, meanBilledMs, type CostModel } from './cost-model';
import { BenchDevice, frameCounts, resetFrameCounts } from './device';
import { closeAll, registerUser } from './population';
import type { RequestCounter } from './request-counter';
import { settle } from './settle';
import { sleep, summarize } from './stats';

export interface PresenceRun {
  readonly pairs: number;
  /** TYPING frames sent, and how many of Bob's devices got one (each frame goes to two). */
  readonly typingFrames: number;
  readonly typingArrivals: number;
  /** TYPING frame sent → arrival on the watching device. */
  readonly typingLatencyMs: ReturnType<typeof summarize>;
  /** Per TYPING frame (the sender's frame, the route's function, route reads, posts). */
  readonly typingCost: CostModel;
  /** Offline and online changes counted, and the PRESENCE frames they reached watchers with. */
  readonly presenceChanges: number;
  readonly presenceFrames: number;
  /** Per presence change: the connects and disconnects that made it, the subscriptions query, privacy reads, posts. */
  readonly presenceCost: CostModel;
}

const TYPING_EVERY_MS = 1100;

/** What the counter saw since its reset, priced per `units` (typing frames, presence changes). */
function priced(counter: RequestCounter, units: number, lambdaMemoryMb: number, scenario: string): CostModel {
  const usage = counter.take();
  return costPerMessage({
    usage,
    frames: { ...frameCounts },
    messages: units,
    lambdaMemoryMb,
    scenario,
    billedMs: Object.fromEntries(Object.entries(usage.functions).map(([id, fn]) => [id, meanBilledMs(fn)])),
    lambdaDurationSource: 'mean wall time of each invocation in this run, rounded up to the ms: it grows with the load the run puts on this machine',
    billedMsMeasured: "under this run's load",
  });
}

export async function timePresenceAndTyping(
  parley: ParleyLocal,
  counter: RequestCounter,
  options: { pairs: number; typingSeconds: number; lambdaMemoryMb: number },
): Promise<PresenceRun> {
  const users = await Promise.all(Array.from({ length: options.pairs }, () => Promise.all([registerUser(parley, 2), registerUser(parley, 2)])));
  const connect = (credentials: Parameters<typeof BenchDevice.connect>[1][]) => Promise.all(credentials.map((c) => BenchDevice.connect(parley, c)));
  let alices = await Promise.all(users.map(([alice]) => connect(alice)));
  const bobs = await Promise.all(users.map(([, bob]) => connect(bob)));
  await Promise.all(bobs.flatMap((devices, i) => devices.map((device) => device.request({ action: 'SUBSCRIBE_PRESENCE', userIds: [users[i]![0][0]!.userId] }))));
  await settle(parley);

  // Typing, after a round that is not measured: the local runtime loads a handler at its first invocation,
  // as Lambda does at a cold start, and this measures the warm path a typing user takes. The wait keeps the
  // warm-up's frames from throttling the measured ones (one per device, conversation and state per interval).
  const typeInEach = (state: 'composing' | 'paused', beforeSend: (device: BenchDevice) => void = () => undefined) =>
    alices.forEach((devices, i) => {
      const conversationId = directConversationId(users[i]![0][0]!.userId, users[i]![1][0]!.userId);
      for (const device of devices) {
        beforeSend(device);
        device.send({ action: 'TYPING', conversationId, state });
      }
    });
  typeInEach('paused');
  await settle(parley);
  await sleep(TYPING_INTERVAL_MS);
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  for (const device of bobs.flat()) {
    device.onFrame = (frame, at) => {
      if (frame.type !== 'TYPING') return;
      const started = sentAt.get(`${frame.from.userId}.${frame.from.deviceId}:${frame.state}`);
      if (started !== undefined) latencies.push(at - started);
    };
  }
  counter.reset();
  resetFrameCounts();
  let typingFrames = 0;
  const rounds = Math.max(1, Math.floor((options.typingSeconds * 1000) / TYPING_EVERY_MS));
  for (let round = 0; round < rounds; round++) {
    const state = round % 2 === 0 ? 'composing' : 'paused';
    typeInEach(state, (device) => {
      sentAt.set(`${device.key}:${state}`, performance.now());
      typingFrames++;
    });
    await sleep(TYPING_EVERY_MS);
  }
  await settle(parley);
  const typingCost = priced(counter, typingFrames, options.lambdaMemoryMb, `averaged over the ${typingFrames} typing frames of ${options.pairs} pairs typing at once`);

  // Presence: every Alice goes offline (both devices close), then online (both open again).
  let presenceFrames = 0;
  for (const device of bobs.flat()) device.onFrame = (frame) => void (frame.type === 'PRESENCE' && presenceFrames++);
  counter.reset();
  resetFrameCounts();
  await closeAll(alices.flat());
  await settle(parley);
  alices = await Promise.all(users.map(([alice]) => connect(alice)));
  await settle(parley);
  const presenceChanges = 2 * options.pairs;
  const presenceCost = priced(counter, presenceChanges, options.lambdaMemoryMb, `averaged over ${presenceChanges} presence changes of ${options.pairs} pairs at once`);
  await closeAll([...alices.flat(), ...bobs.flat()]);
  return {
    pairs: options.pairs,
    typingFrames,
    typingArrivals: latencies.length,
    typingLatencyMs: summarize(latencies),
    typingCost,
    presenceChanges,
    presenceFrames,
    presenceCost,
  };
}
