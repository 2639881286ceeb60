import { BUNDLE_TARGETS, formatTargets, targetChecks, TARGETS } from '../../bench/targets';
import type { Results } from '../../bench/report';

type Measured = Omit<Results, 'targets'>;
const latency = (p99: number) => ({ count: 200, p50: p99 / 2, p99, max: p99 });

/** A run whose every figure sits at its target, off by `over` (a fraction) where the figure grows past it. */
function runAt(over: number): Measured {
  const at = (target: number) => target * (1 + over);
  return {
    perMessage: { requests: { 'dynamodb UpdateItem': at(TARGETS.requestsPerMessage) - 10, 'dynamodb GetItem': 10 } },
    fixedRate: { offeredRate: 50 },
    cost: { usdPerMillionMessages: at(TARGETS.usdPerMillionMessages) - 1 },
    costOfLoneMessage: { usdPerMillionMessages: at(TARGETS.usdPerMillionMessages) },
    groupFanout: {
      members: 1024,
      usdPerMillionMessagesWithReturn: at(TARGETS.groupUsdPerMillionMessages),
      withReturnAt: [{ messagesPerReturn: 1, usdPerMillionMessages: 1082.4 }],
      offlineReturn: { messagesFound: 5 },
      interference: { p99Ratio: at(TARGETS.interferenceP99Ratio), alone: latency(40), withGroupFanout: latency(80) },
    },
    bundles: {
      functions: [{ bytes: 200 * 1024 }, { bytes: at(BUNDLE_TARGETS.bytes) }],
      largestBytes: at(BUNDLE_TARGETS.bytes),
      medianImportCpuMs: 30,
      slowestImportCpuMs: at(BUNDLE_TARGETS.importCpuMs),
    },
    maxRate: { p99LimitMs: 200, sustainedRate: over > 0 ? 30 : TARGETS.localRate },
    lowRate: { offeredRate: 5, seconds: 20, pushLatencyMs: latency(at(TARGETS.sendToPushP99Ms)) },
  } as unknown as Measured;
}

describe('the bench’s targets', () => {
  it('holds a figure exactly at its target as met', () => {
    const checks = targetChecks(runAt(0));
    expect(checks).toHaveLength(8);
    expect(checks.map((check) => check.met)).toEqual([true, true, true, true, true, true, true, true]);
  });

  it('holds a figure just past its target as not met; a bundle over 300 KB is left to the README’s reasons', () => {
    const checks = targetChecks(runAt(0.01));
    expect(checks.map((check) => check.met)).toEqual([false, false, false, null, false, false, false, false]);
    expect(checks[2]!.figure).toContain('$1082.40 at 1 per return');
    expect(checks[3]!.figure).toContain('1 of 2 within it');
    expect(formatTargets(checks)[4]).toMatch(/^ {2}see README +Lambda bundle ≤ 300 KB/);
  });

  it('names a section the run skipped, and counts it as not met', () => {
    const skipped = { ...runAt(0), groupFanout: null, bundles: null, maxRate: null, lowRate: null } as Measured;
    const checks = targetChecks(skipped);
    expect(checks.filter((check) => check.figure === 'not run')).toHaveLength(6);
    expect(checks.filter((check) => check.figure === 'not run').every((check) => check.met === false)).toBe(true);
    expect(formatTargets(checks).filter((line) => line.startsWith('  not run '))).toHaveLength(6);
  });
});
