/**
 * Group fan-out: one member sends to a group of `members` users, of whom `online` are connected (a real
 * device each) and the rest are offline users written straight into the devices table. Timed from the
 * GROUP_SEND to the PUSH on the last online member's device; the requests of the whole fan-out (queues,
 * pushes, chat lists, the members' DELIVERED and their tallies) are counted per group message.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ParleyLocal } from '../local/runtime';
import { call } from '../test/support/device-client';
import { addSimulatedUsers } from '../test/support/simulated-users';
import { costPerMessage, meanBilledMs, type CostModel } from './cost-model';
import { BenchDevice, frameCounts, resetFrameCounts } from './device';
import { closeAll, registerUser } from './population';
import type { RequestCounter } from './request-counter';
import { settle } from './settle';
import { summarize } from './stats';

export interface GroupFanoutRun {
  readonly members: number;
  readonly onlineMembers: number;
  readonly memberDevices: number;
  readonly messages: number;
  /** GROUP_SEND → PUSH on the last online member's device, per message. */
  readonly lastOnlineMemberMs: ReturnType<typeof summarize>;
  readonly cost: CostModel;
}

export async function timeGroupFanout(
  parley: ParleyLocal,
  counter: RequestCounter,
  options: { members: number; online: number; messages: number; lambdaMemoryMb: number },
): Promise<GroupFanoutRun> {
  const [sender] = await registerUser(parley, 1);
  const online = await Promise.all(Array.from({ length: options.online }, () => registerUser(parley, 1)));
  const offline = await addSimulatedUsers(parley, options.members - 1 - options.online);
  const groupId = randomUUID();
  const members = [...online.map(([device]) => device!.userId), ...offline.map((user) => user.userId)];
  const created = await call(parley, 'POST', '/v1/groups', { device: sender, body: { groupId, name: 'Bench', members } });
  if (created.status !== 201) throw new Error(`group not created: ${JSON.stringify(created.body).slice(0, 200)}`);
  const sending = await BenchDevice.connect(parley, sender!);
  const receivers = await Promise.all(online.map(([device]) => BenchDevice.connect(parley, device!)));
  await settle(parley);

  counter.reset();
  resetFrameCounts();
  const lastOnline: number[] = [];
  for (let seq = 1; seq <= options.messages; seq++) {
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
    const ack = await sending.request({
      action: 'GROUP_SEND',
      msgId,
      conversationId: `group:${groupId}`,
      seq,
      groupVersion: 1,
      ciphertext: randomBytes(160).toString('base64'),
    });
    if (ack.type !== 'ACK') throw new Error(`GROUP_SEND refused: ${JSON.stringify(ack)}`);
    lastOnline.push(Math.max(...(await Promise.all(arrived))) - start);
    await settle(parley, 400, 60_000);
  }
  const usage = counter.take();
  const frames = { ...frameCounts };
  await closeAll([sending, ...receivers]);
  return {
    members: options.members,
    onlineMembers: options.online,
    memberDevices: options.online + offline.reduce((sum, user) => sum + user.devices, 0),
    messages: options.messages,
    lastOnlineMemberMs: summarize(lastOnline),
    cost: costPerMessage({
      usage,
      frames,
      messages: options.messages,
      lambdaMemoryMb: options.lambdaMemoryMb,
      billedMs: Object.fromEntries(Object.entries(usage.functions).map(([id, fn]) => [id, meanBilledMs(fn)])),
      lambdaDurationSource: 'mean wall time of each invocation in this run, rounded up to the ms',
    }),
  };
}
