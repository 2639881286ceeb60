/**
 * Issue 11's targets, each with this run's figure and whether it is met, so that a run says plainly where
 * Parley stands. Only what one run can judge gets a verdict: whether a bundle over 300 KB needs its
 * bytes is argued in the README, so that line states the count and leaves the verdict to it (`met: null`).
 */
import type { Results } from './report';

/** A bundle of at most 300 KB, imported in at most 40 ms of CPU on this machine. */
export const BUNDLE_TARGETS = { bytes: 300 * 1024, importCpuMs: 40 } as const;

export const TARGETS = {
  requestsPerMessage: 27,
  usdPerMillionMessages: 22,
  groupUsdPerMillionMessages: 1000,
  localRate: 40,
  sendToPushP99Ms: 20,
  interferenceP99Ratio: 2,
} as const;

/** How the bench prints whether a figure meets its target. */
export const verdict = (ok: boolean) => (ok ? 'met' : 'NOT MET');

export interface TargetCheck {
  readonly target: string;
  readonly figure: string;
  /** `null`: not a verdict one run can give (see the figure). */
  readonly met: boolean | null;
}

type Measured = Omit<Results, 'targets'>;

/** The figure of a target whose section the run skipped (`met` is then false). */
const NOT_RUN = 'not run';

/** AWS requests per message of the fixed-rate run: every service's, acknowledgements and receipts included. */
const requestsPerMessage = (perMessage: Measured['perMessage']): number | null => {
  const requests = (perMessage as { requests?: Record<string, number> }).requests;
  return requests ? Object.values(requests).reduce((sum, count) => sum + count, 0) : null;
};

const round = (value: number, digits = 1) => Number(value.toFixed(digits));

export function targetChecks(results: Measured): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const requests = requestsPerMessage(results.perMessage);
  checks.push({
    target: `AWS requests per 1:1 message to 2+2 devices, acks and receipts included ≤ ${TARGETS.requestsPerMessage}`,
    figure: requests === null ? 'not measured' : `${round(requests)} (averaged at ${results.fixedRate.offeredRate} msg/s)`,
    met: requests === null ? false : requests <= TARGETS.requestsPerMessage,
  });
  const average = results.cost.usdPerMillionMessages;
  const alone = results.costOfLoneMessage.usdPerMillionMessages;
  checks.push({
    target: `$ per million 1:1 messages ≤ $${TARGETS.usdPerMillionMessages}, averaged and alone`,
    figure: `$${average.toFixed(2)} averaged; $${alone.toFixed(2)} alone`,
    met: Math.max(average, alone) <= TARGETS.usdPerMillionMessages,
  });
  const group = results.groupFanout;
  const atOne = group?.withReturnAt.find((at) => at.messagesPerReturn === 1);
  checks.push({
    target: `$ per million messages to a ${group?.members ?? 1024}-member group, the offline devices' return included ≤ $${TARGETS.groupUsdPerMillionMessages}`,
    figure: group
      ? `$${group.usdPerMillionMessagesWithReturn.toFixed(2)} with the group's share of the return at ${group.offlineReturn?.messagesFound ?? '—'} messages per return` +
        (atOne ? `; $${atOne.usdPerMillionMessages.toFixed(2)} at 1 per return` : '')
      : NOT_RUN,
    met: group ? group.usdPerMillionMessagesWithReturn <= TARGETS.groupUsdPerMillionMessages : false,
  });
  const bundles = results.bundles;
  const small = bundles ? bundles.functions.filter((fn) => fn.bytes <= BUNDLE_TARGETS.bytes).length : 0;
  checks.push({
    target: `Lambda bundle ≤ ${BUNDLE_TARGETS.bytes / 1024} KB, but for those that need more, with the reason`,
    figure: bundles ? `${small} of ${bundles.functions.length} within it; largest ${Math.round(bundles.largestBytes / 1024)} KB (the reasons for the rest: README)` : NOT_RUN,
    met: bundles ? (small === bundles.functions.length ? true : null) : false,
  });
  checks.push({
    target: `bundle import ≤ ${BUNDLE_TARGETS.importCpuMs} ms of CPU on this machine`,
    figure: bundles ? `median ${bundles.medianImportCpuMs} ms, slowest ${bundles.slowestImportCpuMs} ms` : NOT_RUN,
    met: bundles ? bundles.slowestImportCpuMs <= BUNDLE_TARGETS.importCpuMs : false,
  });
  const rate = results.maxRate?.sustainedRate ?? null;
  checks.push({
    target: `local: highest rate with p99 < ${results.maxRate?.p99LimitMs ?? 200} ms ≥ ${TARGETS.localRate} msg/s`,
    figure: results.maxRate ? `${rate ?? 'none'} msg/s` : NOT_RUN,
    met: rate !== null && rate >= TARGETS.localRate,
  });
  const low = results.lowRate;
  checks.push({
    target: `local: SEND → PUSH p99 at ${low?.offeredRate ?? 5} msg/s ≤ ${TARGETS.sendToPushP99Ms} ms`,
    figure: low ? `p50 ${low.pushLatencyMs.p50} ms, p99 ${low.pushLatencyMs.p99} ms (${low.pushLatencyMs.count} PUSHes over ${low.seconds} s)` : NOT_RUN,
    met: low?.pushLatencyMs.p99 != null ? low.pushLatencyMs.p99 <= TARGETS.sendToPushP99Ms : false,
  });
  const apart = group?.interference;
  checks.push({
    target: `1:1 p99 while a group message fans out ≤ ${TARGETS.interferenceP99Ratio}× the p99 without it`,
    figure: apart ? `${apart.p99Ratio ?? '—'}× (${apart.alone.p99} → ${apart.withGroupFanout.p99} ms, ${apart.alone.count} latencies a side)` : NOT_RUN,
    met: apart?.p99Ratio != null ? apart.p99Ratio <= TARGETS.interferenceP99Ratio : false,
  });
  return checks;
}

/** The targets as the bench prints them: one line each, the verdict first. */
export const formatTargets = (checks: readonly TargetCheck[]): string[] => {
  const width = Math.max(...checks.map((check) => check.target.length)) + 2;
  const said = (check: TargetCheck) => (check.figure === NOT_RUN ? NOT_RUN : check.met === null ? 'see README' : verdict(check.met));
  return ['Issue 11 targets:', ...checks.map((check) => `  ${said(check).padEnd(11)}${check.target.padEnd(width)}${check.figure}`)];
};
