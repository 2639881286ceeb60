/**
 * How fast this machine runs right now: the CPU time of a fixed piece of work like the stack's own (JSON
 * in and out, as every AWS request and frame is, and SHA-256, as signing and digests are), taken at the
 * start and the end of a run. On the shared 2-core machine the same code has taken 41 ms of CPU per message
 * in one run and 67 ms in the next; a run whose speed check is slow is a slow machine, not a regression.
 */
import { createHash } from 'node:crypto';

export interface SpeedCheck {
  /** CPU ms of the fixed work: median of `rounds`. */
  readonly cpuMs: number;
  /** The fastest and slowest round. */
  readonly minCpuMs: number;
  readonly maxCpuMs: number;
}

/** Shaped like a DynamoDB request with a queued envelope: ~1.2 KB of JSON. */
const REQUEST = {
  TableName: 'parley-local-deviceQueues',
  Item: {
    deviceKey: { S: 'user-5c3e0c1e-6a59-4b53-9b3d-0c1a2b3c4d5e#1' },
    cursor: { S: '0001733155200000#7f3c2a1b-9e8d-4c7b-a6f5-e4d3c2b1a098' },
    frame: { S: 'x'.repeat(800) },
    expiresAt: { N: '1735747200' },
  },
  ConditionExpression: 'attribute_not_exists(deviceKey)',
};

function work(): void {
  let text = '';
  for (let i = 0; i < 10_000; i++) {
    text = JSON.stringify({ ...REQUEST, i });
    JSON.parse(text);
  }
  const data = Buffer.from(text.repeat(64));
  for (let i = 0; i < 500; i++) createHash('sha256').update(data).digest();
}

const cpuMsOf = (run: () => void) => {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

export function checkMachineSpeed(rounds = 7): SpeedCheck {
  work();
  const times = Array.from({ length: rounds }, () => cpuMsOf(work)).sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return { cpuMs: round(times[Math.floor(rounds / 2)]!), minCpuMs: round(times[0]!), maxCpuMs: round(times[rounds - 1]!) };
}
