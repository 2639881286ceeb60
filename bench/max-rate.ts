/**
 * The highest rate sustained: short steps at rising offered rates; a step holds when every SEND left on
 * time, every PUSH arrived and the p99 SEND → PUSH latency stayed under the limit. Stops at the first
 * step that does not hold, or when the next step would overrun the time budget. The budget counts from
 * the step-up's own start, once what ran before it (the fixed rate's backlog) has settled, so that the
 * sections before it never leave it without time.
 */
import { performance } from 'node:perf_hooks';
import type { ParleyLocal } from '../local/runtime';
import { runAtRate, type RateRun } from './latency';
import type { Pair } from './population';
import { settle } from './settle';

export interface Step extends RateRun {
  readonly held: boolean;
}

export interface MaxRate {
  readonly p99LimitMs: number;
  readonly stepSeconds: number;
  /** Seconds the step-up may take, from its start. */
  readonly budgetSeconds: number;
  /** Whether the stack was quiet when the first step began (the backlog of what ran before drained). */
  readonly startedQuiet: boolean;
  /** The last offered rate that held; null if none did. */
  readonly sustainedRate: number | null;
  /** Why the step-up ended. */
  readonly stoppedBecause: string;
  readonly steps: Step[];
}

export async function findMaxRate(
  parley: ParleyLocal,
  pairs: readonly Pair[],
  options: { steps: readonly number[]; stepSeconds: number; p99LimitMs: number; budgetSeconds: number },
): Promise<MaxRate> {
  const startedQuiet = await settle(parley, 400, 60_000);
  const deadline = performance.now() + options.budgetSeconds * 1000;
  const steps: Step[] = [];
  let sustainedRate: number | null = null;
  let stoppedBecause = 'every step held';
  for (const rate of options.steps) {
    // A step, plus its pushes and the quiet after it, must fit in the budget.
    if (performance.now() + (options.stepSeconds + 5) * 1000 > deadline) {
      stoppedBecause = `time budget: ${rate} msg/s was not tried`;
      break;
    }
    const run = await runAtRate(pairs, rate, options.stepSeconds, 5_000);
    const held = run.keptRate && run.missingPushes === 0 && run.errors === 0 && (run.pushLatencyMs.p99 ?? Infinity) < options.p99LimitMs;
    steps.push({ ...run, held });
    process.stderr.write(
      `  step ${rate} msg/s: sent ${run.achievedRate}/s (ELU ${run.eventLoopUtilization}, ${run.cpuMsPerMessage} ms CPU/msg), p50 ${run.pushLatencyMs.p50} ms, p99 ${run.pushLatencyMs.p99} ms, late ${run.lateSends}, missing ${run.missingPushes} → ${held ? 'held' : 'did not hold'}\n`,
    );
    await settle(parley);
    if (!held) {
      stoppedBecause = !run.keptRate
        ? `${rate} msg/s: ${run.sent} of ${run.messages} sent, ${run.lateSends} late (every conversation waiting for its ACK)`
        : run.missingPushes || run.errors
          ? `${rate} msg/s: ${run.missingPushes} pushes missing, ${run.errors} errors`
          : `${rate} msg/s: p99 ${run.pushLatencyMs.p99} ms ≥ ${options.p99LimitMs} ms`;
      break;
    }
    sustainedRate = rate;
  }
  return { p99LimitMs: options.p99LimitMs, stepSeconds: options.stepSeconds, budgetSeconds: options.budgetSeconds, startedQuiet, sustainedRate, stoppedBecause, steps };
}
