/**
 * Online delivery latency at an offered rate: Alice_i's phone sends to Bob_i, one message of a
 * conversation at a time (the next after the previous ACK), the conversations paced together to the
 * offered rate; each of Bob's devices times its PUSH from the moment the SEND left Alice's phone.
 */
import { performance } from 'node:perf_hooks';
import type { Pair } from './population';
import { pairMessage } from './population';
import { sleep, summarize, type LatencySummary } from './stats';

export interface RateRun {
  readonly offeredRate: number;
  readonly seconds: number;
  readonly conversations: number;
  /** Messages due in the run: offered rate × seconds. */
  readonly messages: number;
  /**
   * Messages sent: those for which no conversation was free by the end of the run, or for the run's last
   * ones within `LATE_MS` of their due time, are dropped.
   */
  readonly sent: number;
  /** Messages sent per second of the run. */
  readonly achievedRate: number;
  /** Whether every message was sent and at most 1% left more than 100 ms after its due time. */
  readonly keptRate: boolean;
  /** SENDs that left more than 100 ms after their due time: no conversation was free (its ACK was pending). */
  readonly lateSends: number;
  readonly maxSendDelayMs: number;
  /** SEND → PUSH on each of the recipient's devices. */
  readonly pushLatencyMs: LatencySummary;
  /** SEND → ACK on the sender. */
  readonly ackLatencyMs: LatencySummary;
  /** PUSHes that had not arrived `waitForPushesMs` after the last SEND was acknowledged. */
  readonly missingPushes: number;
  readonly errors: number;
  /** Share of the run the event loop of this process (stack and devices alike) was busy, 0–1. */
  readonly eventLoopUtilization: number;
  /** CPU time of this process per message sent, ms (user + system; may exceed wall time on 2 cores). */
  readonly cpuMsPerMessage: number;
}

const LATE_MS = 100;

/** `pushLatencies`: where each SEND → PUSH latency is also added, to pool several runs' samples. */
export async function runAtRate(pairs: readonly Pair[], rate: number, seconds: number, waitForPushesMs = 10_000, pushLatencies: number[] = []): Promise<RateRun> {
  const total = Math.max(1, Math.round(rate * seconds));
  const sentAt = new Map<string, number>();
  const firstPush = pushLatencies.length;
  const ackLatencies: number[] = [];
  let expectedPushes = 0;
  let errors = 0;
  let sendingDone = false;
  let allPushed: () => void = () => undefined;
  const pushesDone = new Promise<void>((resolve) => (allPushed = resolve));

  for (const pair of pairs) {
    for (const device of pair.bob) {
      device.onFrame = (frame, at) => {
        if (frame.type !== 'PUSH') return;
        const start = sentAt.get(frame.msgId);
        if (start === undefined) return;
        pushLatencies.push(at - start);
        if (sendingDone && pushLatencies.length - firstPush >= expectedPushes) allPushed();
      };
    }
  }

  // Conversations with no SEND awaiting its ACK, and messages waiting for one to free up.
  const free: number[] = pairs.map((_, index) => index);
  const waiting: ((index: number) => void)[] = [];
  const release = (index: number) => {
    const next = waiting.shift();
    if (next) next(index);
    else free.push(index);
  };
  const acquire = () => (free.length ? Promise.resolve(free.shift()!) : new Promise<number>((resolve) => waiting.push(resolve)));

  const seqs = pairs.map(() => 0);
  const acks: Promise<void>[] = [];
  let lateSends = 0;
  let maxSendDelay = 0;
  let lastSend = 0;
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const start = performance.now();
  const interval = 1000 / rate;
  const end = start + seconds * 1000;
  let sent = 0;
  for (let k = 0; k < total; k++) {
    const due = start + k * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    // A message may wait for a free conversation until the run is over, and the run's last ones as long
    // as any other before they count late: a cut-off at the run's end alone gave the last message only one
    // interval (33 ms at 30 msg/s) and dropped a step for a send 34 ms late that mid-run would not even
    // have counted as late.
    const deadline = Math.max(end, due + LATE_MS);
    const index = await Promise.race([acquire(), sleep(Math.max(0, deadline - performance.now())).then(() => -1)]);
    if (index < 0) {
      // No conversation freed in time: what is left is not sent. The acquire still queued hands its
      // conversation straight back when it frees.
      waiting.splice(0, waiting.length, (freed) => free.push(freed));
      break;
    }
    sent++;
    const pair = pairs[index]!;
    const frame = pairMessage(pair, ++seqs[index]!);
    const at = performance.now();
    const delay = Math.max(0, at - due);
    if (delay > LATE_MS) lateSends++;
    maxSendDelay = Math.max(maxSendDelay, delay);
    sentAt.set(frame.msgId, at);
    expectedPushes += pair.bob.length;
    lastSend = at;
    acks.push(
      pair.alice[0]!.request(frame).then(
        (answer) => {
          if (answer.type === 'ACK') ackLatencies.push(performance.now() - at);
          else errors++;
          release(index);
        },
        () => {
          errors++;
          release(index);
        },
      ),
    );
  }
  await Promise.all(acks);
  sendingDone = true;
  if (pushLatencies.length - firstPush < expectedPushes) await Promise.race([pushesDone, sleep(waitForPushesMs)]);
  for (const pair of pairs) for (const device of pair.bob) device.onFrame = () => undefined;
  const busy = performance.eventLoopUtilization(elu).utilization;
  const cpuUsed = process.cpuUsage(cpu);

  const elapsedSeconds = Math.max(seconds, (lastSend - start) / 1000 + interval / 1000);
  return {
    offeredRate: rate,
    seconds,
    conversations: pairs.length,
    messages: total,
    sent,
    achievedRate: Math.round((sent / elapsedSeconds) * 10) / 10,
    keptRate: sent === total && lateSends <= total * 0.01,
    lateSends,
    maxSendDelayMs: Math.round(maxSendDelay),
    pushLatencyMs: summarize(pushLatencies.slice(firstPush)),
    ackLatencyMs: summarize(ackLatencies),
    missingPushes: expectedPushes - (pushLatencies.length - firstPush),
    errors,
    eventLoopUtilization: Math.round(busy * 100) / 100,
    cpuMsPerMessage: Math.round(((cpuUsed.user + cpuUsed.system) / 1000 / Math.max(1, sent)) * 10) / 10,
  };
}
