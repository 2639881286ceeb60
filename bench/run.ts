/**
 * `npm run bench`: the local stack in this process (in memory, free ports), real WebSocket devices, and
 * six figures: delivery latency at a fixed rate, the highest rate that keeps p99 under 200 ms, the time
 * to SYNC 1,000 queued messages, the AWS requests and dollars per million 1:1 messages, the time and
 * cost of one message to a 1,024-member group, and what the client SDK's Signal protocol work costs
 * (session setups per second, encrypt+decrypt per message), typing latency and the cost of a typing frame
 * and of a presence change (bench/presence.ts). First of all, each Lambda bundle's size and
 * import time (bench/bundles.ts). Last, media: the SDK's attachment crypto on a large file, attachments
 * uploaded and downloaded through the stack, and dollars per million media messages (bench/media-transfer.ts).
 * Writes bench/results.json and prints a table. Flags: see bench/options.ts (`npm run bench -- --help`).
 */
import './environment';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startParleyLocal, type ParleyLocal } from '../local/runtime';
import { costPerMessage, meanBilledMs } from './cost-model';
import { frameCounts, resetFrameCounts, type FrameCounts } from './device';
import { runAtRate } from './latency';
import { findMaxRate } from './max-rate';
import { measureMediaCrypto, type MediaCryptoRun } from './media-crypto';
import { mediaResults, measureMediaTransfer, type MediaTransferRun } from './media-transfer';
import { parseOptions, type BenchOptions } from './options';
import { closeAll, createPairs } from './population';
import { checkMachineSpeed } from './machine-speed';
import { formatGroupTable, formatMediaTable, formatTable, type Results } from './report';
import { RequestCounter, type Usage } from './request-counter';
import { measureSdkCrypto } from './sdk-crypto';
import { measureBundles } from './bundles';
import { settle } from './settle';
import { summarize } from './stats';
import { timeSync } from './sync-time';
import { timeGroupFanout, type GroupFanoutRun } from './group-fanout';
import { targetChecks } from './targets';
import { replaceInResults } from './results-file';
import { timePresenceAndTyping } from './presence';

const say = (line: string) => process.stderr.write(`${line}\n`);

/** The run of messages alone: slow enough over the pairs that no two share a fanout batch or a DELIVERED. */
const LONE_RATE = 2;
/** The warm-up's rate (`--warmup-seconds`): fast enough to compile the path, far from any limit. */
const WARMUP_RATE = 20;
const LONE_SECONDS = 5;
const seconds = (from: number) => Math.round((performance.now() - from) / 100) / 10;

function durations(usage: Usage) {
  return Object.fromEntries(
    Object.entries(usage.functions).map(([id, fn]) => [id, { invocations: fn!.invocations, ...summarize(fn!.durationsMs), meanBilled: Math.round(meanBilledMs(fn) * 10) / 10 }]),
  );
}

function perMessage(usage: Usage, messages: number) {
  const per = (value: number) => Number((value / messages).toPrecision(4));
  return {
    messages,
    requests: Object.fromEntries(Object.entries(usage.requests).sort().map(([key, count]) => [key, per(count)])),
    excludedPollerRequests: per(usage.excludedPollerRequests),
    lambdaInvocations: Object.fromEntries(Object.entries(usage.functions).map(([id, fn]) => [id, per(fn!.invocations)])),
    fanoutRecordsPerBatch: usage.functions.fanout ? Number((usage.functions.fanout.records / usage.functions.fanout.invocations).toFixed(2)) : null,
    dynamodb: Object.fromEntries(
      Object.entries(usage.tables).map(([table, t]) => [table, { reads: per(t.reads), writes: per(t.writes), readUnits: per(t.readUnits), writeUnits: per(t.writeUnits), maxItemBytes: t.maxItemBytes }]),
    ),
    kinesis: Object.fromEntries(
      Object.entries(usage.kinesis).map(([stream, k]) => [stream, { records: per(k.records), bytes: per(k.bytes), payloadUnits25KB: per(k.payloadUnits25KB), billedKB: per(k.billedKB) }]),
    ),
    connectionsPosts: per(usage.connections.posts),
    webSocketFrames: { in: per(frameCounts.sent), out: per(frameCounts.received), billedUnits: per(frameCounts.units) },
  };
}

/** The local stack, every AWS request it makes counted. */
async function startStack(counter: RequestCounter, options: BenchOptions): Promise<ParleyLocal> {
  const parley = await startParleyLocal({
    webSocketPort: 0,
    httpPort: 0,
    instrumentClients: counter.instrument,
    intercept: counter.intercept,
    // DynamoDB's TTL deletes are free: keep the sweeper's scans out of the counts.
    ttlSweepIntervalMs: 60 * 60 * 1000,
    // A pair here sends up to 20 msg/s and the SYNC run queues 100 at once, far past what a person sends:
    // the limits stay on (their requests are counted) but never refuse.
    sendRateLimits: { perDevice: { burst: 100_000, refillMs: 1 }, perRecipient: { burst: 100_000, refillMs: 1 } },
    ...(options.verbose ? { log: say } : {}),
    awsTransport: options.awsTransport,
    emulatorThread: options.emulatorThread,
    functionThreads: options.functionThreads,
    // The handlers' requests on the function threads, counted there and added here.
    threadInstrumentation: { module: path.join(__dirname, 'thread-request-counter.ts'), onReport: (usage) => counter.add(usage as Usage) },
  });
  counter.nameTables(parley.resources.tables);
  counter.nameStreams(parley.resources.streams);
  return parley;
}

/** Before the stack starts, like the SDK figures, so that nothing else in this process takes CPU. */
async function measureMediaCryptoIfAsked(options: BenchOptions): Promise<MediaCryptoRun | null> {
  if (options.mediaCryptoMb <= 0) return null;
  say(`Client SDK attachments: encrypting a ${options.mediaCryptoMb} MiB file, then verifying and decrypting it…`);
  const run = await measureMediaCrypto(options.mediaCryptoMb);
  say(`  ${run.encryptMBps} MiB/s encrypt, ${run.verifyAndDecryptMBps} MiB/s verify+decrypt; peak RSS +${run.peakRssGrowthMB} MB, arrayBuffers +${run.peakArrayBuffersGrowthMB} MB`);
  return run;
}

async function measureMediaTransferIfAsked(parley: ParleyLocal, counter: RequestCounter, options: BenchOptions): Promise<MediaTransferRun | null> {
  if (options.mediaTransferMb <= 0) return null;
  say(`Attachments through the stack: ${options.mediaTransferRounds} uploads and downloads of ${options.mediaTransferMb} MiB…`);
  const run = await measureMediaTransfer(parley, counter, { megabytes: options.mediaTransferMb, rounds: options.mediaTransferRounds });
  say(`  upload ${run.uploadMBps.median} MiB/s, download ${run.downloadMBps.median} MiB/s (medians), files intact: ${run.intact}`);
  return run;
}

async function timeGroupFanoutIfAsked(parley: ParleyLocal, counter: RequestCounter, options: BenchOptions): Promise<GroupFanoutRun | null> {
  if (options.groupMembers <= 0) return null;
  say(`Group fan-out: ${options.groupMessages} messages to ${options.groupMembers} members, ${options.groupOnline} online; ${options.groupReturning} offline devices return…`);
  const group = await timeGroupFanout(parley, counter, {
    members: options.groupMembers,
    online: options.groupOnline,
    messages: options.groupMessages,
    returning: options.groupReturning,
    lambdaMemoryMb: options.lambdaMemoryMb,
    interference:
      options.groupInterferenceSeconds > 0
        ? { rate: options.groupInterferenceRate, seconds: options.groupInterferenceSeconds, rounds: options.groupInterferenceRounds, conversations: options.groupInterferenceConversations }
        : null,
  });
  say(`  last online member: p50 ${group.lastOnlineMemberMs.p50} ms, max ${group.lastOnlineMemberMs.max} ms; $${group.usdPerMillionMessagesWithReturn} per million with the group's share of the return ($${group.usdPerMillionMessagesWithFullReturn} with the full return)`);
  if (group.interference) say(`  1:1 p99 (their own stream, not the group's): ${group.interference.alone.p99} ms alone, ${group.interference.withGroupFanout.p99} ms beside the fan-out (rounds: ${group.interference.roundRatios?.join('×, ')}×)`);
  return group;
}

/** `--group-only`: the group section alone, written into the results file in place of its `groupFanout` entry. */
async function runGroupOnly(options: BenchOptions): Promise<void> {
  const counter = new RequestCounter();
  const parley = await startStack(counter, options);
  try {
    const groupFanout = await timeGroupFanoutIfAsked(parley, counter, options);
    replaceInResults(options.out, { groupFanout });
    console.log(`\n${formatGroupTable(groupFanout!)}\n\nThe groupFanout entry of ${options.out} replaced.`);
  } finally {
    await parley.stop();
  }
}

/** `--media-only`: the media section alone, written into the results file in place of its `media` entry. */
async function runMediaOnly(options: BenchOptions): Promise<void> {
  const crypto = await measureMediaCryptoIfAsked(options);
  const counter = new RequestCounter();
  const parley = await startStack(counter, options);
  try {
    const media = mediaResults(crypto, await measureMediaTransferIfAsked(parley, counter, options), options.lambdaMemoryMb);
    replaceInResults(options.out, { media });
    console.log(`\n${formatMediaTable(media)}\n\nThe media entry of ${options.out} replaced.`);
  } finally {
    await parley.stop();
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.mediaOnly) return runMediaOnly(options);
  if (options.groupOnly) return runGroupOnly(options);
  const started = performance.now();
  const speedAtStart = checkMachineSpeed();
  say(`Machine speed check: ${speedAtStart.cpuMs} ms of CPU for the fixed work (bench/machine-speed.ts)`);
  // Before the stack starts, so nothing else in this process takes CPU.
  let bundles = null;
  if (options.bundleImportRuns > 0) {
    say(`Lambda bundles: building each function as the CDK does, timing ${options.bundleImportRuns} cold starts of each…`);
    bundles = await measureBundles(options.bundleImportRuns);
    say(`  largest ${Math.round(bundles.largestBytes / 1024)} KB; import CPU median ${bundles.medianImportCpuMs} ms, slowest ${bundles.slowestImportCpuMs} ms; first invocation CPU median ${bundles.medianFirstInvocationCpuMs} ms`);
  }
  let sdk = null;
  if (options.sdkSessions > 0 && options.sdkMessages > 0) {
    say(`Client SDK: ${options.sdkSessions} session setups, ${options.sdkMessages} messages of 200 bytes each way…`);
    sdk = await measureSdkCrypto(options.sdkSessions, options.sdkMessages);
    say(`  ${sdk.sessionSetups.perSecond} setups/s; ${sdk.messages.oneDirection.usEach} µs per message (encrypt+decrypt)`);
  }
  const mediaCrypto = await measureMediaCryptoIfAsked(options);
  const counter = new RequestCounter();
  const parley = await startStack(counter, options);
  try {
    say(`Registering ${options.pairs} pairs of users (2 devices each) and connecting their devices…`);
    const pairs = await createPairs(parley, options.pairs);
    for (const device of pairs.flatMap((pair) => [...pair.alice, ...pair.bob])) device.autoDeliver = options.delivered;
    say(`Warming up (${options.warmupSeconds} s at ${WARMUP_RATE} msg/s)…`);
    await runAtRate(pairs, WARMUP_RATE, options.warmupSeconds);
    // A full second of quiet: the warm-up's last receipts must not be counted as the lone messages'.
    await settle(parley, 1000);
    const setupSeconds = seconds(started);

    say(`Messages alone: ${LONE_RATE} msg/s for ${LONE_SECONDS} s over ${options.pairs} conversations (each function timed, nothing batched)…`);
    counter.reset();
    resetFrameCounts();
    const lone = await runAtRate(pairs, LONE_RATE, LONE_SECONDS);
    await settle(parley);
    const lowLoad = counter.take();
    const loneFrames = { ...frameCounts };

    let lowRate = null;
    if (options.lowRateSeconds > 0) {
      say(`Low rate: ${options.lowRate} msg/s for ${options.lowRateSeconds} s over ${options.pairs} conversations…`);
      lowRate = await runAtRate(pairs, options.lowRate, options.lowRateSeconds);
      await settle(parley);
      say(`  p50 ${lowRate.pushLatencyMs.p50} ms, p99 ${lowRate.pushLatencyMs.p99} ms, max ${lowRate.pushLatencyMs.max} ms (${lowRate.pushLatencyMs.count} PUSHes)`);
    }

    say(`Fixed rate: ${options.rate} msg/s for ${options.seconds} s over ${options.pairs} conversations…`);
    counter.reset();
    resetFrameCounts();
    const run = await runAtRate(pairs, options.rate, options.seconds);
    const settled = await settle(parley, 400, 60_000);
    const usage = counter.take();
    const frames = { ...frameCounts };
    say(`  p50 ${run.pushLatencyMs.p50} ms, p99 ${run.pushLatencyMs.p99} ms, max ${run.pushLatencyMs.max} ms; sent ${run.achievedRate} msg/s, ${run.lateSends} late`);
    const perMessageUsage = perMessage(usage, run.sent);

    let maxRate = null;
    if (options.steps.length) {
      say(`Step-up: ${options.steps.join(', ')} msg/s, ${options.stepSeconds} s each, until p99 ≥ ${options.p99LimitMs} ms…`);
      maxRate = await findMaxRate(parley, pairs, { steps: options.steps, stepSeconds: options.stepSeconds, p99LimitMs: options.p99LimitMs, budgetSeconds: options.budgetSeconds });
    }

    say(`SYNC: queueing ${options.syncMessages} messages for an offline device, then SYNC…`);
    const sync = options.syncMessages > 0 ? await timeSync(parley, options.syncMessages) : null;
    if (sync) say(`  ${sync.syncMs} ms, ${sync.pages} pages, ${sync.received} received, in order: ${sync.inOrder}`);

    const groupFanout = await timeGroupFanoutIfAsked(parley, counter, options);

    let presence = null;
    if (options.presencePairs > 0) {
      say(`Presence and typing: ${options.presencePairs} pairs, typing for ${options.typingSeconds} s, then every Alice offline and online…`);
      presence = await timePresenceAndTyping(parley, counter, { pairs: options.presencePairs, typingSeconds: options.typingSeconds, lambdaMemoryMb: options.lambdaMemoryMb });
      say(`  typing p50 ${presence.typingLatencyMs.p50} ms, p99 ${presence.typingLatencyMs.p99} ms; $${presence.typingCost.usdPerMillionMessages} per million typing frames, $${presence.presenceCost.usdPerMillionMessages} per million presence changes`);
    }

    const media = mediaResults(mediaCrypto, await measureMediaTransferIfAsked(parley, counter, options), options.lambdaMemoryMb);

    // Both priced with the durations of the messages alone: the fixed rate's grow with this machine's load.
    const priceAt = (scenario: string, measured: Usage, measuredFrames: FrameCounts, messages: number) =>
      costPerMessage({
        usage: measured,
        frames: measuredFrames,
        messages,
        scenario,
        lambdaMemoryMb: options.lambdaMemoryMb,
        billedMs: Object.fromEntries(Object.entries(lowLoad.functions).map(([id, fn]) => [id, meanBilledMs(fn)])),
        lambdaDurationSource: `mean wall time of each invocation in this process at ${LONE_RATE} msg/s, rounded up to the ms (handler code plus its emulated AWS calls over localhost; on AWS the calls take longer, a few ms each)`,
        billedMsMeasured: `at ${LONE_RATE} msg/s`,
      });
    const cost = priceAt(
      `averaged over the fixed-rate run: ${run.sent} messages at ${options.rate} msg/s offered over ${options.pairs} conversations, sharing fanout batches and DELIVERED batches`,
      usage,
      frames,
      run.sent,
    );
    const costOfLoneMessage = priceAt(
      `a message alone: ${lone.sent} messages at ${LONE_RATE} msg/s over ${options.pairs} conversations, each in a fanout batch and a DELIVERED of its own`,
      lowLoad,
      loneFrames,
      lone.sent,
    );
    const measured: Omit<Results, 'targets'> = {
      generatedAt: new Date().toISOString(),
      machine: {
        loadAverageAtEnd: os.loadavg().map((load) => Math.round(load * 100) / 100),
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        node: process.version,
        platform: `${os.platform()} ${os.arch()}`,
        speedCheck: { atStart: speedAtStart, atEnd: checkMachineSpeed() },
      },
      options,
      setupSeconds,
      totalSeconds: seconds(started),
      lowRate,
      fixedRate: { ...run, settled },
      maxRate,
      sync,
      groupFanout,
      presence,
      sdk,
      bundles,
      perMessage: perMessageUsage,
      lambdaDurationsMs: { atFixedRate: durations(usage), alone: durations(lowLoad) },
      cost,
      costOfLoneMessage,
      media,
    };
    const results: Results = { ...measured, targets: targetChecks(measured) };
    writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\n${formatTable(results)}\n\nWritten to ${options.out} (${results.totalSeconds} s in all).`);
    await closeAll(pairs.flatMap((pair) => [...pair.alice, ...pair.bob]));
  } finally {
    await parley.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
