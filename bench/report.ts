/** The bench's results: the JSON written to bench/results.json and the short table printed at the end. */
import type { CostLine, CostModel } from './cost-model';
import type { RateRun } from './latency';
import type { MaxRate } from './max-rate';
import type { MediaResults } from './media-transfer';
import type { GroupFanoutRun } from './group-fanout';
import type { ConversationPlacement, GroupInterferenceRun } from './group-interference';
import type { PresenceRun } from './presence';
import type { SdkCryptoRun } from './sdk-crypto';
import type { BundlesRun } from './bundles';
import type { SpeedCheck } from './machine-speed';
import type { SyncRun } from './sync-time';
import { formatTargets, TARGETS, verdict as met, type TargetCheck } from './targets';

export interface Results {
  readonly generatedAt: string;
  readonly machine: {
    loadAverageAtEnd: number[];
    cpus: number;
    cpuModel: string;
    node: string;
    platform: string;
    /** The fixed work of `bench/machine-speed.ts` before anything else ran and after everything: how fast the machine was. */
    speedCheck: { atStart: SpeedCheck; atEnd: SpeedCheck };
  };
  readonly options: object;
  readonly setupSeconds: number;
  readonly totalSeconds: number;
  /** SEND → PUSH at a low rate (5 msg/s), long enough for a p99 of 200 PUSHes; null if skipped. */
  readonly lowRate: RateRun | null;
  readonly fixedRate: RateRun & { settled: boolean };
  readonly maxRate: MaxRate | null;
  readonly sync: SyncRun | null;
  readonly groupFanout: GroupFanoutRun | null;
  /** Typing latency, and the cost of a typing frame and of a presence change (bench/presence.ts). */
  readonly presence: PresenceRun | null;
  /** The client SDK's Signal protocol work in one process: session setups and 1:1 messages. */
  readonly sdk: SdkCryptoRun | null;
  /** Each Lambda bundle's size and import time (bench/bundles.ts). */
  readonly bundles: BundlesRun | null;
  /** What one message of the 1:1 scenario (the fixed-rate run) asked of each service. */
  readonly perMessage: object;
  /** Wall time of each function's invocations in-process, ms: at the fixed rate, and of messages alone (2 msg/s). */
  readonly lambdaDurationsMs: object;
  /** A 1:1 message averaged over the fixed-rate run: batching (fanout, DELIVERED) shares some costs. */
  readonly cost: CostModel;
  /** A 1:1 message alone, at low load: nothing to share a batch with. */
  readonly costOfLoneMessage: CostModel;
  /** Attachments: the SDK's crypto on a large file, a transfer through the local stack, the cost model. */
  readonly media: MediaResults | null;
  /** Issue 11's targets with this run's figures (bench/targets.ts). */
  readonly targets: readonly TargetCheck[];
}

const pad = (text: string, width: number) => text.padEnd(width);
const aligned = (rows: [string, string][]) => {
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return rows.map(([label, value]) => `${pad(label, width)}${value}`);
};
const costLines = (lines: readonly CostLine[]) => {
  const itemWidth = Math.max(...lines.map((line) => line.item.length)) + 2;
  return lines.map((line) => `  ${pad(line.item, itemWidth)}${pad(`${line.perMessage} ${line.unit}`, 22)}$${line.usdPerMillionMessages.toFixed(3)} / M msgs`);
};

function mediaRows(media: MediaResults | null): [string, string][] {
  const crypto = media?.crypto;
  const transfer = media?.transfer;
  return [
    [
      `Client SDK: attachment of ${crypto?.megabytes ?? '—'} MiB, encrypt; verify+decrypt (files on disk)`,
      crypto
        ? `${crypto.encryptMBps} MiB/s; ${crypto.verifyAndDecryptMBps} MiB/s; peak growth RSS ${crypto.peakRssGrowthMB} MB, arrayBuffers ${crypto.peakArrayBuffersGrowthMB} MB`
        : 'not run',
    ],
    [
      `Attachment of ${transfer?.megabytes ?? '—'} MiB through the local stack (SDK upload, download+verify+decrypt)`,
      transfer
        ? `upload ${transfer.uploadMBps.median} MiB/s, download ${transfer.downloadMBps.median} MiB/s (medians of ${transfer.rounds}; ${transfer.intact ? 'files intact' : 'FILES DIFFER'})`
        : 'not run',
    ],
    ['Cost per million media messages', media?.cost ? `$${media.cost.usdPerMillionMessages.toFixed(2)} (${media.cost.assumptions.describedAs}, ${media.cost.assumptions.downloadsPerMessage} downloads)` : '—'],
  ];
}

function mediaCostLines(media: MediaResults | null): string[] {
  if (!media?.cost) return [];
  const { assumptions: a } = media.cost;
  return ['', `Per media message (${a.describedAs}: ${a.blobBytes} B, kept ${a.retentionDays} days, downloaded by ${a.downloadsPerMessage} devices):`, ...costLines(media.cost.lines), `  ${media.cost.formula}`];
}

/** The media section's rows alone, for `--media-only`. */
export const formatMediaTable = (media: MediaResults): string => [...aligned(mediaRows(media)), ...mediaCostLines(media)].join('\n');
const ms = (value: number | null | undefined) => (value === null || value === undefined ? '—' : `${value} ms`);

/** Where the interference run's records went: each stream with its shards and lanes (of the parallelization factor). */
function placementText(placement: NonNullable<GroupInterferenceRun['placement']>): string {
  const where = (c: ConversationPlacement) => `${c.shardId.replace('shardId-', '')} lane ${c.lane}`;
  const streams = [...new Set(placement.conversations.map((c) => c.stream))];
  const oneToOne = streams.map((stream) => `1:1 on ${stream}: ${placement.conversations.filter((c) => c.stream === stream).map(where).join(', ')}`);
  return `group on ${placement.group.stream}: ${where(placement.group)}; ${oneToOne.join('; ')}; lanes of ${placement.parallelization}`;
}

function groupRows(group: GroupFanoutRun | null): [string, string][] {
  const back = group?.offlineReturn;
  const apart = group?.interference;
  return [
    [
      `Group of ${group?.members ?? '—'} members (${group?.onlineMembers ?? '—'} online, ${group?.memberDevices ?? '—'} devices): GROUP_SEND → last online PUSH`,
      group ? `p50 ${ms(group.lastOnlineMemberMs.p50)}, max ${ms(group.lastOnlineMemberMs.max)} (${group.messages} messages)` : 'not run',
    ],
    [
      '  groupFanout invocations while the group messages went out (the largest are the messages\' own): wall; process CPU meanwhile',
      group?.fanoutInvocation
        ? `${group.fanoutInvocation.wallMs.count} invocations; wall p50 ${ms(group.fanoutInvocation.wallMs.p50)}, max ${ms(group.fanoutInvocation.wallMs.max)}; CPU p50 ${ms(group.fanoutInvocation.cpuMs.p50)}, max ${ms(group.fanoutInvocation.cpuMs.max)}`
        : '—',
    ],
    ['  cost per million group messages: fan-out and online acknowledgements', group ? `$${group.cost.usdPerMillionMessages.toFixed(2)}` : '—'],
    [
      `  + offline devices' return, full (${back ? `${back.sampleDevices} of ${back.offlineDevices} came back, scaled` : '—'}); its baseline (the same return finding nothing)`,
      back ? `$${back.cost.usdPerMillionMessages.toFixed(2)}; $${back.baseline.usdPerMillionMessages.toFixed(2)}` : 'not run',
    ],
    ["  + the group messages' share of the return (full less baseline: a device returns for its 1:1 queue anyway)", back ? `$${back.groupShare.usdPerMillionMessages.toFixed(2)}` : 'not run'],
    [
      `  = with the group's share of the return (target ≤ $${TARGETS.groupUsdPerMillionMessages}); with the full return beside it`,
      group && back
        ? `$${group.usdPerMillionMessagesWithReturn.toFixed(2)} (${met(group.usdPerMillionMessagesWithReturn <= TARGETS.groupUsdPerMillionMessages)}); $${group.usdPerMillionMessagesWithFullReturn.toFixed(2)} with the full return`
        : '—',
    ],
    [
      '  at 1, 5 and 20 messages a device picks up per return (scaled from the measured return): with the share; with the full return',
      group?.withReturnAt?.length
        ? group.withReturnAt.map((at) => `${at.messagesPerReturn}: $${at.usdPerMillionMessages.toFixed(2)}; $${at.usdPerMillionMessagesWithFullReturn.toFixed(2)}`).join(' | ')
        : '—',
    ],
    [
      `1:1 SEND → PUSH p99 at ${apart?.rate ?? '—'} msg/s, on their own stream: alone; beside a group's fan-out on the groups' stream (target ≤ ${TARGETS.interferenceP99Ratio}×)`,
      apart
        ? `${ms(apart.alone.p99)}; ${ms(apart.withGroupFanout.p99)} with ${apart.groupMessages} group messages (${apart.p99Ratio ?? '—'}×, ${met(apart.p99Ratio !== null && apart.p99Ratio <= TARGETS.interferenceP99Ratio)}; ${apart.alone.count} and ${apart.withGroupFanout.count} latencies over ${apart.rounds ?? 1} rounds taken in turns, each round's own: ${apart.roundRatios?.map((ratio) => `${ratio ?? '—'}×`).join(', ') ?? '—'}); ${apart.inTheGroupsBatches ?? '—'} of ${apart.conversations} conversations in the group's batches${apart.placement ? ` (${placementText(apart.placement)})` : ''}`
        : 'not run',
    ],
  ];
}

function groupCostLines(group: GroupFanoutRun | null): string[] {
  if (!group) return [];
  const lines = ['', `Per group message (${group.members} members, ${group.memberDevices} devices, ${group.onlineMembers} online and acknowledging):`, ...costLines(group.cost.lines)];
  const back = group.offlineReturn;
  if (back) {
    lines.push(
      '',
      `Per group message, the offline devices' return (${back.offlineDevices} devices each SYNC and acknowledge the ${back.messagesFound} messages they missed; measured on ${back.sampleDevices}, scaled):`,
      ...costLines(back.cost.lines),
      '',
      `The same devices' baseline return (one SYNC finding nothing new, nothing to acknowledge), priced per the same group messages:`,
      ...costLines(back.baseline.lines),
      '',
      "The group messages' share of the return (full less baseline, line by line):",
      ...costLines(back.groupShare.lines),
    );
  }
  return lines;
}

/** The group section's rows and cost lines alone, for `--group-only`. */
export const formatGroupTable = (group: GroupFanoutRun): string => [...aligned(groupRows(group)), ...groupCostLines(group)].join('\n');

export function formatTable(results: Results): string {
  const { lowRate: low, fixedRate: run, maxRate, sync, groupFanout: group, presence, sdk, bundles, cost, costOfLoneMessage: lone } = results;
  const { atStart, atEnd } = results.machine.speedCheck;
  const rows: [string, string][] = [
    ['Machine speed check (CPU of a fixed JSON and SHA-256 work, median of 7; lower is faster)', `${atStart.cpuMs} ms at the start, ${atEnd.cpuMs} ms at the end`],
    [
      `Delivery latency SEND → PUSH at ${low?.offeredRate ?? '—'} msg/s × ${low?.seconds ?? '—'} s, ${low?.conversations ?? '—'} conversations`,
      low ? `p50 ${ms(low.pushLatencyMs.p50)}, p99 ${ms(low.pushLatencyMs.p99)}, max ${ms(low.pushLatencyMs.max)} (${low.pushLatencyMs.count} PUSHes)` : 'not run',
    ],
    [
      `Delivery latency SEND → PUSH at ${run.offeredRate} msg/s × ${run.seconds} s, ${run.conversations} conversations`,
      `p50 ${ms(run.pushLatencyMs.p50)}, p99 ${ms(run.pushLatencyMs.p99)}, max ${ms(run.pushLatencyMs.max)}`,
    ],
    ['  rate achieved', `${run.achievedRate} msg/s (${run.sent} of ${run.messages} sent, ${run.lateSends} late, ${run.missingPushes} PUSHes missing)`],
    ['  this process: event loop busy, CPU per message', `${Math.round(run.eventLoopUtilization * 100)}%, ${run.cpuMsPerMessage} ms`],
    ['  SEND → ACK', `p50 ${ms(run.ackLatencyMs.p50)}, p99 ${ms(run.ackLatencyMs.p99)}`],
    [
      `Highest rate with p99 < ${maxRate?.p99LimitMs ?? '—'} ms (${maxRate?.stepSeconds ?? '—'} s steps)`,
      maxRate ? `${maxRate.sustainedRate ?? 'none'} msg/s (stopped: ${maxRate.stoppedBecause})` : 'not run',
    ],
    [
      `SYNC of ${sync?.messages ?? '—'} queued messages, first SYNC → QUEUE_EMPTY`,
      sync ? `${sync.syncMs} ms, ${sync.pages} pages, ${sync.received} received, ${sync.inOrder ? 'in order' : 'NOT IN ORDER'}` : 'not run',
    ],
    [
      'Cost per million 1:1 messages (list prices, see bench/prices.ts): averaged at the fixed rate; alone',
      `$${cost.usdPerMillionMessages.toFixed(2)} at ${run.offeredRate} msg/s; $${lone.usdPerMillionMessages.toFixed(2)} alone`,
    ],
    ...groupRows(group),
    [
      `Typing: TYPING → the other device (${presence?.pairs ?? '—'} pairs, 2 watching devices each)`,
      presence ? `p50 ${ms(presence.typingLatencyMs.p50)}, p99 ${ms(presence.typingLatencyMs.p99)} (${presence.typingArrivals} arrivals of ${presence.typingFrames} frames)` : 'not run',
    ],
    ['  cost per million typing frames', presence ? `$${presence.typingCost.usdPerMillionMessages.toFixed(2)}` : '—'],
    [
      '  cost per million presence changes (2 devices watching, the connects and disconnects included)',
      presence ? `$${presence.presenceCost.usdPerMillionMessages.toFixed(2)} (${presence.presenceFrames} PRESENCE frames for ${presence.presenceChanges} changes)` : '—',
    ],
    [
      'Client SDK: session setups (PQXDH, first message both sides)',
      sdk ? `${sdk.sessionSetups.perSecond}/s (${sdk.sessionSetups.msEach} ms each; first message ${sdk.sessionSetups.firstMessageBytes} B)` : 'not run',
    ],
    [
      'Client SDK: 1:1 message of 200 B, encrypt+decrypt',
      sdk
        ? `${sdk.messages.oneDirection.usEach} µs (${sdk.messages.oneDirection.perSecond}/s) one way, ${sdk.messages.alternating.usEach} µs as replies; ${sdk.messages.oneDirection.ciphertextBytes} B ciphertext`
        : 'not run',
    ],
    [
      'Lambda bundles: size; import and first invocation CPU time in a fresh node (bench/bundles.ts)',
      bundles
        ? `largest ${Math.round(bundles.largestBytes / 1024)} KB, median ${Math.round(bundles.medianBytes / 1024)} KB; import slowest ${bundles.slowestImportCpuMs} ms, median ${bundles.medianImportCpuMs} ms; first invocation median ${bundles.medianFirstInvocationCpuMs} ms`
        : 'not run',
    ],
    ...mediaRows(results.media),
  ];
  const lines = aligned(rows);
  const delivered = (results.options as { delivered?: boolean }).delivered !== false;
  lines.push(
    '',
    `Per message (1:1, Alice 2 devices → Bob 2 devices, ${delivered ? 'every queued frame acknowledged with DELIVERED in the SDK’s 250 ms batches, delivery states pushed to the sender’s devices' : 'no DELIVERED (--no-delivered): the acknowledgement leg is left out'}):`,
  );
  lines.push(`  ${cost.scenario}:`, ...costLines(cost.lines));
  lines.push(`  ${lone.scenario}:`, ...costLines(lone.lines));
  lines.push(...mediaCostLines(results.media));
  if (presence) {
    lines.push('', 'Per TYPING frame (Alice → Bob’s 2 devices):');
    lines.push(...costLines(presence.typingCost.lines));
    lines.push('', 'Per presence change (both of Alice’s devices close, then open again; Bob’s 2 devices watch):');
    lines.push(...costLines(presence.presenceCost.lines));
  }
  lines.push(...groupCostLines(group));
  lines.push('', ...formatTargets(results.targets));
  return lines.join('\n');
}
