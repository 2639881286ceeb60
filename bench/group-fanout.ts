/**
 * Group fan-out: one member sends to a group of `members` users, of whom `online` are connected (a real
 * device each) and the rest are offline users written straight into the devices table. Timed from the
 * GROUP_SEND to the PUSH on the last online member's device; the requests of the whole fan-out (timeline,
 * pushes, the online members' DELIVERED and their tallies) are counted per group message.
 *
 * Then the offline devices' return: a sample of `returning` offline devices connects after the messages,
 * SYNCs them, its SYNC acknowledging what its previous return brought (cursor writes, previews,
 * watermark), and what the sample used is scaled to every offline device. Before the measured messages
 * the sample returns twice, to one warm-up message each: a return in a group that has been running finds
 * its member past the group's watermark (held by the slowest member), not every member at the group's
 * creation. Connecting is left out (a device connects whatever it finds). The measured returns SYNC one
 * device at a time, so that the Lambda duration lines price each invocation's own wall time.
 *
 * A device returns at its own rhythm (for its 1:1 queue too) whether or not a group wrote to it, so only
 * what the group messages add to a return is theirs: the sample then returns once more to acknowledge
 * them (not measured), and once with nothing new and nothing to acknowledge, the baseline return (the
 * same SYNC, measured as the first). The group's share is the full return less the baseline.
 *
 * Last, whether the fan-out holds up 1:1 conversations, which are on another stream than the group's (`bench/group-interference.ts`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ParleyLocal } from '../local/runtime';
import { call, type TestDevice } from '../test/support/device-client';
import { addSimulatedUsers, credentialsOf } from '../test/support/simulated-users';
import { mapConcurrently } from '../lambdas/runtime/concurrency';
import { costDifference, costPerMessage, meanBilledMs, type CostModel } from './cost-model';
import { BenchDevice, frameCounts, resetFrameCounts } from './device';
import { measureGroupInterference, type GroupInterferenceRun } from './group-interference';
import { closeAll, registerUser } from './population';
import type { RequestCounter, Usage } from './request-counter';
import { settle } from './settle';
import { sleep, summarize } from './stats';

/** Group messages sent before the measured ones, one per earlier return of the sample. */
const WARM_UP_MESSAGES = 2;

/** Messages per return the report shows the group's figure at (scaled from the measured return). */
export const MESSAGES_PER_RETURN = [1, 5, 20];

export interface GroupReturn {
  /** Offline devices that came back in the bench, and all the offline devices their usage is scaled to. */
  readonly sampleDevices: number;
  readonly offlineDevices: number;
  /** Group messages each returning device found at its SYNC (the run's messages). */
  readonly messagesFound: number;
  /** The full return: the SYNC that acknowledged the previous return's group messages and brought these. */
  readonly cost: CostModel;
  /**
   * The same devices' return with nothing new and nothing to acknowledge (one SYNC answered QUEUE_EMPTY),
   * priced per the same group messages: what a device's return costs whether or not a group wrote to it.
   */
  readonly baseline: CostModel;
  /** What the group messages add to a return: `cost` less `baseline`, line by line. */
  readonly groupShare: CostModel;
}

/** One group message's cost with the offline devices' return, at a number of messages a device picks up per return. */
export interface CostWithReturn {
  readonly messagesPerReturn: number;
  /** The full return, the baseline return and the group's share of it (full less baseline), per group message. */
  readonly fullReturn: number;
  readonly baselineReturn: number;
  readonly groupShare: number;
  /** Fan-out + the group's share of the return: the figure issue 11's target is read against. */
  readonly usdPerMillionMessages: number;
  /** Fan-out + the full return, as if the devices came back only for the group. */
  readonly usdPerMillionMessagesWithFullReturn: number;
}

export interface GroupFanoutRun {
  readonly members: number;
  readonly onlineMembers: number;
  readonly memberDevices: number;
  readonly messages: number;
  /** GROUP_SEND → PUSH on the last online member's device, per message. */
  readonly lastOnlineMemberMs: ReturnType<typeof summarize>;
  /**
   * Each group message's groupFanout invocation (the groups' stream's consumer): wall time, and this process's CPU time meanwhile (the
   * emulators' included; the online members' acknowledgements overlap its end).
   */
  readonly fanoutInvocation: { readonly wallMs: ReturnType<typeof summarize>; readonly cpuMs: ReturnType<typeof summarize> };
  /** The fan-out and the online members' acknowledgements. */
  readonly cost: CostModel;
  /** The offline devices' return, per group message. */
  readonly offlineReturn: GroupReturn | null;
  /**
   * Fan-out and the group's share of the return, at the run's messages per return: the figure issue 11
   * sets a target for. A device returns for its 1:1 queue whether or not a group wrote to it, so the
   * return's baseline is no cost of the group's messages.
   */
  readonly usdPerMillionMessagesWithReturn: number;
  /** Fan-out and the full return, beside it: every return charged to the group's messages. */
  readonly usdPerMillionMessagesWithFullReturn: number;
  /**
   * The same at other numbers of messages a device picks up per return: the return's usage is per return
   * (its frames, invocations, reads and writes do not grow with the messages it finds), so its share per
   * message is the measured one times `messagesFound / messagesPerReturn`.
   */
  readonly withReturnAt: CostWithReturn[];
  readonly interference: GroupInterferenceRun | null;
}

const cents = (usd: number) => Math.round(usd * 100) / 100;

/** The figures with the return at `messagesPerReturn`, scaled from the return measured at `messagesFound`. */
function costWithReturn(fanout: CostModel, back: GroupReturn, messagesPerReturn: number): CostWithReturn {
  const scaled = (model: CostModel) => (model.usdPerMillionMessages * back.messagesFound) / messagesPerReturn;
  return {
    messagesPerReturn,
    fullReturn: cents(scaled(back.cost)),
    baselineReturn: cents(scaled(back.baseline)),
    groupShare: cents(scaled(back.groupShare)),
    usdPerMillionMessages: cents(fanout.usdPerMillionMessages + scaled(back.groupShare)),
    usdPerMillionMessagesWithFullReturn: cents(fanout.usdPerMillionMessages + scaled(back.cost)),
  };
}

const costOf = (usage: Usage, frames: typeof frameCounts, messages: number, lambdaMemoryMb: number, scenario: string) =>
  costPerMessage({
    usage,
    frames,
    messages,
    lambdaMemoryMb,
    scenario,
    billedMs: Object.fromEntries(Object.entries(usage.functions).map(([id, fn]) => [id, meanBilledMs(fn)])),
    lambdaDurationSource: 'mean wall time of each invocation in this run, rounded up to the ms: it grows with the load the run puts on this machine',
    billedMsMeasured: "under this run's load",
  });

export async function timeGroupFanout(
  parley: ParleyLocal,
  counter: RequestCounter,
  options: {
    members: number;
    online: number;
    messages: number;
    returning: number;
    lambdaMemoryMb: number;
    interference: { rate: number; seconds: number; rounds: number; conversations: number } | null;
  },
): Promise<GroupFanoutRun> {
  const [sender] = await registerUser(parley, 1);
  const online = await Promise.all(Array.from({ length: options.online }, () => registerUser(parley, 1)));
  const offline = await addSimulatedUsers(parley, options.members - 1 - options.online);
  const groupId = randomUUID();
  const conversationId = `group:${groupId}`;
  const members = [...online.map(([device]) => device!.userId), ...offline.map((user) => user.userId)];
  const created = await call(parley, 'POST', '/v1/groups', { device: sender, body: { groupId, name: 'Bench', members } });
  if (created.status !== 201) throw new Error(`group not created: ${JSON.stringify(created.body).slice(0, 200)}`);
  const sending = await BenchDevice.connect(parley, sender!);
  const receivers = await Promise.all(online.map(([device]) => BenchDevice.connect(parley, device!)));
  const offlineDevices = offline.flatMap((user) => Array.from({ length: user.devices }, (_, i) => credentialsOf(user, i + 1)));
  const sample = offlineDevices.slice(0, Math.min(options.returning, offlineDevices.length)) as TestDevice[];
  // The sample has what was there before the messages (the group's creation) acknowledged, as a device
  // that was online until then would.
  const connectSample = () => mapConcurrently(sample, 8, (device) => BenchDevice.connect(parley, device));
  const send = async (seq: number, msgId = randomUUID()) => {
    const ack = await sending.request({ action: 'GROUP_SEND', msgId, conversationId, seq, groupVersion: 1, ciphertext: randomBytes(160).toString('base64') });
    if (ack.type !== 'ACK') throw new Error(`GROUP_SEND refused: ${JSON.stringify(ack)}`);
    return msgId;
  };
  // Two earlier returns of the sample, one warm-up message each: the second's SYNC moves the member off the
  // watermark (the creation, where the members that never return hold it), the measured one acknowledges the second.
  for (let seq = 1; seq <= WARM_UP_MESSAGES; seq++) {
    await send(seq);
    await settle(parley, 400, 60_000);
    await closeAll(await mapConcurrently(await connectSample(), 8, async (device) => (await device.syncAll(), device)));
    await settle(parley);
  }

  counter.reset();
  resetFrameCounts();
  const lastOnline: number[] = [];
  for (let seq = WARM_UP_MESSAGES + 1; seq <= WARM_UP_MESSAGES + options.messages; seq++) {
    const msgId = randomUUID();
    const arrived = receivers.map(
      (device) =>
        new Promise<number>((resolve) => {
          device.onFrame = (frame, at) => {
            if (frame.type === 'PUSH' && frame.msgId === msgId) resolve(at);
          };
        }),
    );
    const start = performance.now();
    await send(seq, msgId);
    lastOnline.push(Math.max(...(await Promise.all(arrived))) - start);
    await settle(parley, 400, 60_000);
  }
  while (counter.inFlight() > 0) await sleep(50);
  const usage = counter.take();
  const cost = costOf(usage, { ...frameCounts }, options.messages, options.lambdaMemoryMb, `averaged over ${options.messages} group messages, one a second, each fanned out to every member and acknowledged by the online ones`);

  let offlineReturn: GroupReturn | null = null;
  if (sample.length > 0) {
    // The sample's usage stands for every offline device's: the same as `offlineDevices / sample` times as
    // many messages' worth of return.
    const perGroupMessage = (options.messages * sample.length) / offlineDevices.length;
    const returnCost = (run: MeasuredReturn, scenario: string) => costOf(run.usage, run.frames, perGroupMessage, options.lambdaMemoryMb, scenario);
    const full = await measureReturn(parley, counter, connectSample);
    const messagesFound = Math.min(...full.found.map((frames) => groupPushesIn(frames, conversationId)));
    if (messagesFound !== options.messages) throw new Error(`a returning device found ${messagesFound} of ${options.messages} group messages`);
    // The return that acknowledges what the full one brought, not measured: after it, nothing is pending.
    await closeAll(await mapConcurrently(await connectSample(), 8, async (device) => (await device.syncAll(), device)));
    await settle(parley);
    const baseline = await measureReturn(parley, counter, connectSample);
    if (baseline.found.some((frames) => frames.length > 0)) throw new Error('a baseline return found frames: it is meant to find nothing');
    const cost = returnCost(full, 'the return of the offline devices sampled, scaled to all of them, per group message');
    const baselineCost = returnCost(baseline, "the same devices' return with nothing new and nothing to acknowledge, scaled and priced per the same group messages");
    offlineReturn = {
      sampleDevices: sample.length,
      offlineDevices: offlineDevices.length,
      messagesFound,
      cost,
      baseline: baselineCost,
      groupShare: costDifference(cost, baselineCost, "what the group messages add to the offline devices' returns (the full return less the baseline), per group message"),
    };
  }

  const interference = options.interference
    ? await measureGroupInterference(parley, { sender: sending, conversationId, groupVersion: 1, firstSeq: WARM_UP_MESSAGES + options.messages + 1 }, options.interference)
    : null;
  await closeAll([sending, ...receivers]);
  return {
    members: options.members,
    onlineMembers: options.online,
    memberDevices: options.online + offlineDevices.length,
    messages: options.messages,
    lastOnlineMemberMs: summarize(lastOnline),
    // A group's records go to the groups' stream, whose consumer is groupFanout.
    fanoutInvocation: { wallMs: summarize(usage.functions.groupFanout?.durationsMs ?? []), cpuMs: summarize(usage.functions.groupFanout?.cpuMs ?? []) },
    cost,
    offlineReturn,
    usdPerMillionMessagesWithReturn: cents(cost.usdPerMillionMessages + (offlineReturn?.groupShare.usdPerMillionMessages ?? 0)),
    usdPerMillionMessagesWithFullReturn: cents(cost.usdPerMillionMessages + (offlineReturn?.cost.usdPerMillionMessages ?? 0)),
    withReturnAt: offlineReturn ? MESSAGES_PER_RETURN.map((messagesPerReturn) => costWithReturn(cost, offlineReturn, messagesPerReturn)) : [],
    interference,
  };
}

/** What one measured return of the sample used, and the frames each device's SYNCs brought. */
interface MeasuredReturn {
  readonly usage: Usage;
  readonly frames: typeof frameCounts;
  readonly found: unknown[][];
}

const groupPushesIn = (frames: readonly any[], conversationId: string) => frames.filter((f) => f.type === 'PUSH' && f.conversationId === conversationId).length;

/**
 * The sample connects (not counted: a device connects whatever it finds), SYNCs until QUEUE_EMPTY and
 * closes; counted from the first SYNC until everything it caused has settled.
 */
async function measureReturn(parley: ParleyLocal, counter: RequestCounter, connectSample: () => Promise<BenchDevice[]>): Promise<MeasuredReturn> {
  const returning = await connectSample();
  await settle(parley);
  counter.reset();
  resetFrameCounts();
  // One device at a time: each SYNC's wall time, which the duration lines price, is then its own, as on AWS,
  // where each invocation has a sandbox to itself, and not also the other returns' CPU on the two shared
  // cores (the 1:1 costs price messages sent alone for the same reason).
  const found: unknown[][] = [];
  for (const device of returning) found.push(await device.syncAll());
  await settle(parley, 400, 60_000);
  // The last DELIVERED of each device has no answer: wait for its invocation, and what it put on the stream.
  while (counter.inFlight() > 0) await sleep(50);
  await settle(parley, 400, 60_000);
  const usage = counter.take();
  const frames = { ...frameCounts };
  await closeAll(returning);
  return { usage, frames, found };
}
