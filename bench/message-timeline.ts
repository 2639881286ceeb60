/**
 * `npm run bench:timeline`: where the time of one 1:1 message goes on the local stack, at no load. Messages
 * are sent one at a time, far enough apart that nothing else runs beside them (their DELIVERED batches
 * included); every Lambda invocation and every AWS call of the stack is timestamped through the runtime's
 * hooks, as are the ACK and each PUSH on the devices. Prints each step's median time after the SEND left the
 * sender's phone, the CPU of this process (stack, emulator thread and devices) per message, and the
 * invocations and AWS calls of each message (its DELIVERED batches and receipts included).
 * Wall-clock figures on a shared machine are noisy; this names the steps a change should shorten.
 *
 * Flags: --messages 40 --gap-ms 700 --warmup 10 --json (the table as JSON on stdout) --no-emulator-thread (DynamoDB and
 * Kinesis on the main thread too, where the functions run here). `--warmup` messages go
 * first, each after the last one's ACK: V8 compiles a path's code better the more often it runs, so a few
 * hundred show a long-running stack rather than one just started.
 */
import './environment';
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { startParleyLocal } from '../local/runtime';
import { closeAll, createPairs, pairMessage } from './population';
import { settle } from './settle';
import { percentile, sleep } from './stats';

interface Mark {
  readonly at: number;
  readonly what: string;
}

let marks: Mark[] = [];
const mark = (what: string) => marks.push({ at: performance.now(), what });

/** Client class → the service name the marks use. */
const SERVICE_OF: Record<string, string> = {
  DynamoDBClient: 'dynamodb',
  KinesisClient: 'kinesis',
  ApiGatewayManagementApiClient: '@connections',
  SNSClient: 'sns',
  S3Client: 's3',
};

/** The function whose invocation an AWS call belongs to; none for the event source's own reads. */
const invocation = new AsyncLocalStorage<string>();

/** The table ids a DynamoDB request names (`parley-local-device-queues` → `deviceQueues`), so two calls of one command tell apart. */
function tablesOf(input: { TableName?: string; RequestItems?: Record<string, unknown> } | undefined): string {
  const names = input?.TableName ? [input.TableName] : Object.keys(input?.RequestItems ?? {});
  return names.map((name) => name.replace(/^parley-local-/, '').replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase())).join(',');
}

/**
 * Marks the start and end of every AWS call a client makes, named by the invocation that made it, the
 * service, the command and the tables: `send dynamodb UpdateItem conversationClocks ▸`.
 */
function timeCalls<T extends object>(client: T): T {
  const service = SERVICE_OF[client.constructor.name] ?? client.constructor.name;
  const stack = (client as unknown as { middlewareStack: { add(middleware: unknown, options: unknown): void } }).middlewareStack;
  stack.add(
    (next: (args: { input?: never }) => Promise<unknown>, context: { commandName?: string }) => async (args: { input?: never }) => {
      const command = (context.commandName ?? '?').replace(/Command$/, '');
      const call = [invocation.getStore() ?? 'event source', service, command, tablesOf(args.input)].filter(Boolean).join(' ');
      mark(`${call} ▸`);
      try {
        return await next(args);
      } finally {
        mark(`${call} ◂`);
      }
    },
    { step: 'initialize', priority: 'high', name: 'parleyBenchTimeline' },
  );
  return client;
}

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  return index < 0 ? fallback : Number(process.argv[index + 1]);
}

/** Each message's marks as (label, ms after the SEND), a label repeated within a message numbered. */
function labelled(message: readonly Mark[], sentAt: number): Map<string, number> {
  const seen = new Map<string, number>();
  const offsets = new Map<string, number>();
  for (const { at, what } of message) {
    const n = (seen.get(what) ?? 0) + 1;
    seen.set(what, n);
    offsets.set(n === 1 ? what : `${what} #${n}`, at - sentAt);
  }
  return offsets;
}

async function main(): Promise<void> {
  const messages = option('--messages', 40);
  const gapMs = option('--gap-ms', 700);
  const warmup = option('--warmup', 10);
  const parley = await startParleyLocal({
    webSocketPort: 0,
    httpPort: 0,
    instrumentClients: timeCalls,
    intercept: (id, invoke) => async (event) => {
      mark(`λ ${id} ▸`);
      try {
        return await invocation.run(id, () => invoke(event));
      } finally {
        mark(`λ ${id} ◂`);
      }
    },
    ttlSweepIntervalMs: 60 * 60 * 1000,
    emulatorThread: !process.argv.includes('--no-emulator-thread'),
    // The warm-up sends faster than a person may (the limits' own writes are made all the same).
    sendRateLimits: { perDevice: { burst: 100_000, refillMs: 1 }, perRecipient: { burst: 100_000, refillMs: 1 } },
  });
  const perMessage: Map<string, number>[] = [];
  /** Invocations and AWS calls of every message, its DELIVERED batches and receipts included. */
  const calls = new Map<string, number>();
  let cpuMs = 0;
  /** Per message, between the SEND and the last PUSH: the main thread's busy ms, and the process's CPU ms (every thread). */
  const pathBusyMs: number[] = [];
  const pathCpuMs: number[] = [];
  /** Per message: the time from the SEND to its last PUSH, and the main thread's GC pauses that began in it. */
  const pushedIn: { lastPushMs: number; gcMs: number }[] = [];
  const gcPauses: PerformanceEntry[] = [];
  const gcObserver = new PerformanceObserver((list) => gcPauses.push(...list.getEntries()));
  gcObserver.observe({ entryTypes: ['gc'] });
  try {
    const pairs = await createPairs(parley, 2);
    // Warm every path (the first calls of each client and handler compile code) before timing.
    for (let seq = 1; seq <= warmup; seq++) await pairs[seq % 2]!.alice[0]!.request(pairMessage(pairs[seq % 2]!, seq));
    await settle(parley);
    for (let k = 0; k < messages; k++) {
      const pair = pairs[k % pairs.length]!;
      const frame = pairMessage(pair, warmup + 1 + k);
      const recipients = [...pair.bob, pair.alice[1]!];
      let pushes = 0;
      const allPushed = new Promise<void>((resolve) => {
        for (const [index, device] of recipients.entries()) {
          device.onFrame = (received, at) => {
            if (received.type !== 'PUSH' || received.msgId !== frame.msgId) return;
            marks.push({ at, what: `PUSH on ${index < pair.bob.length ? `recipient device ${index + 1}` : "sender's other device"}` });
            if (++pushes === recipients.length) resolve();
          };
        }
      });
      marks = [];
      const cpu = process.cpuUsage();
      const loop = performance.eventLoopUtilization();
      const sentAt = performance.now();
      const acked = pair.alice[0]!.request(frame).then(() => mark('ACK on the sender'));
      await Promise.all([acked, allPushed]);
      const lastPush = performance.now();
      pathBusyMs.push(performance.eventLoopUtilization(loop).active);
      const onPath = process.cpuUsage(cpu);
      pathCpuMs.push((onPath.user + onPath.system) / 1000);
      // The DELIVERED batches (250 ms in the SDK) and their receipts run in the gap, counted in the CPU.
      await sleep(gapMs);
      const used = process.cpuUsage(cpu);
      cpuMs += (used.user + used.system) / 1000;
      perMessage.push(labelled(marks.filter(({ at }) => at <= lastPush), sentAt));
      const lastPushAt = Math.max(...marks.filter(({ what }) => what.startsWith('PUSH on')).map(({ at }) => at));
      const paused = gcPauses.filter(({ startTime }) => startTime >= sentAt && startTime <= lastPushAt);
      pushedIn.push({ lastPushMs: lastPushAt - sentAt, gcMs: paused.reduce((sum, { duration }) => sum + duration, 0) });
      for (const { what } of marks) if (what.endsWith(' ▸')) calls.set(what.slice(0, -2), (calls.get(what.slice(0, -2)) ?? 0) + 1);
      for (const device of recipients) device.onFrame = () => undefined;
    }
    await closeAll(pairs.flatMap((pair) => [...pair.alice, ...pair.bob]));
  } finally {
    gcObserver.disconnect();
    await parley.stop();
  }

  // Steps seen in at least half the messages, by their median time after the SEND.
  const labels = new Set(perMessage.flatMap((offsets) => [...offsets.keys()]));
  const rows = [...labels]
    .map((label) => {
      const values = perMessage.flatMap((offsets) => (offsets.has(label) ? [offsets.get(label)!] : [])).sort((a, b) => a - b);
      return { label, seenIn: values.length, medianMs: Math.round(percentile(values, 50)! * 10) / 10, p90Ms: Math.round(percentile(values, 90)! * 10) / 10 };
    })
    .filter((row) => row.seenIn * 2 >= perMessage.length)
    .sort((a, b) => a.medianMs - b.medianMs);
  const cpuMsPerMessage = Math.round((cpuMs / messages) * 10) / 10;
  const median = (values: number[]) => Math.round(percentile([...values].sort((a, b) => a - b), 50)! * 10) / 10;
  const pathMs = { mainThreadBusy: median(pathBusyMs), processCpu: median(pathCpuMs) };
  // What makes the slow ones slow: those whose path a main-thread GC pause fell in, beside the others.
  const withGc = pushedIn.filter(({ gcMs }) => gcMs > 0);
  const withoutGc = pushedIn.filter(({ gcMs }) => gcMs === 0);
  const gc = {
    messagesWithPause: withGc.length,
    pauseMs: withGc.length ? median(withGc.map(({ gcMs }) => gcMs)) : 0,
    lastPushMsWithPause: withGc.length ? median(withGc.map(({ lastPushMs }) => lastPushMs)) : null,
    lastPushMsWithout: withoutGc.length ? median(withoutGc.map(({ lastPushMs }) => lastPushMs)) : null,
  };
  const callsPerMessage = Object.fromEntries([...calls].sort(([a], [b]) => a.localeCompare(b)).map(([call, count]) => [call, Math.round((count / messages) * 100) / 100]));
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ messages, cpuMsPerMessage, pathMs, gc, callsPerMessage, steps: rows }, null, 2));
    return;
  }
  console.log(`One 1:1 message at a time (${messages} messages, Alice's phone → Bob's 2 devices and Alice's other device):`);
  console.log(`${'step'.padEnd(64)}${'median ms'.padStart(10)}${'p90 ms'.padStart(10)}`);
  for (const row of rows) console.log(`${row.label.padEnd(64)}${row.medianMs.toFixed(1).padStart(10)}${row.p90Ms.toFixed(1).padStart(10)}`);
  console.log(`CPU of this process per message (its DELIVERED batches and receipts included): ${cpuMsPerMessage} ms`);
  console.log(`From the SEND until the ACK and every PUSH are in, median: the main thread busy ${pathMs.mainThreadBusy} ms, the process's CPU (every thread) ${pathMs.processCpu} ms`);
  console.log(
    `Messages with a main-thread GC pause between the SEND and the last PUSH: ${gc.messagesWithPause} of ${messages} (median pause ${gc.pauseMs} ms); ` +
      `last PUSH, median: ${gc.lastPushMsWithPause ?? '-'} ms with one, ${gc.lastPushMsWithout ?? '-'} ms without`,
  );
  console.log('Invocations and AWS calls per message, the same included (GetRecords: with the idle shards\' polls, once a second each):');
  for (const [call, count] of Object.entries(callsPerMessage)) console.log(`  ${call.padEnd(62)}${String(count).padStart(6)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
