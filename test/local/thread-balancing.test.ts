import { Durations, leastBusy, type Pending } from '../../local/function-threads/threads';
import type { FunctionId } from '../../lambdas/functions';

/** A thread with these invocations in flight: started `ago` ms before now, expected to take `expectedMs`. */
const threadWith = (...inFlight: { functionId: FunctionId; ago: number; expectedMs: number }[]) => ({
  pending: new Map<number, Pending>(
    inFlight.map(({ functionId, ago, expectedMs }, id) => [id, { functionId, since: NOW - ago, expectedMs, resolve: () => undefined, reject: () => undefined }]),
  ),
});
const NOW = 10_000;

describe('which function thread takes the next invocation', () => {
  it('passes over a thread that has just started a group fan-out for one with a 1:1 invocation further on', () => {
    const fanningOut = threadWith({ functionId: 'groupFanout', ago: 2, expectedMs: 110 });
    const sending = threadWith({ functionId: 'send', ago: 8, expectedMs: 20 });
    expect(leastBusy([fanningOut, sending], 0, NOW)).toBe(1);
  });

  it('counts an invocation running longer than its function usually takes by how long it has run', () => {
    const stuck = threadWith({ functionId: 'send', ago: 300, expectedMs: 20 });
    const busy = threadWith({ functionId: 'delivered', ago: 1, expectedMs: 15 }, { functionId: 'fanout', ago: 1, expectedMs: 18 });
    expect(leastBusy([stuck, busy], 0, NOW)).toBe(1);
  });

  it('takes idle threads in turn', () => {
    const idle = [threadWith(), threadWith()];
    expect([0, 1, 2, 3].map((turn) => leastBusy(idle, turn, NOW))).toEqual([0, 1, 0, 1]);
  });
});

describe('how long a function is expected to take', () => {
  it('is nothing before its first invocation, then a moving average that follows recent ones', () => {
    const durations = new Durations();
    expect(durations.expected('groupFanout')).toBe(0);
    durations.record('groupFanout', 100);
    expect(durations.expected('groupFanout')).toBe(100);
    for (let i = 0; i < 30; i++) durations.record('groupFanout', 50);
    expect(durations.expected('groupFanout')).toBeCloseTo(50, 0);
    expect(durations.expected('send')).toBe(0);
  });
});
