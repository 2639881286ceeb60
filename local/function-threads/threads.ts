/**
 * Function invocations on worker threads, as Lambda runs concurrent invocations in sandboxes of their own:
 * on a machine with two cores the handlers' work (the SDK's serialization and signing, the domain code, a
 * group fan-out's thousand queries) runs beside the gateways on the main thread instead of between their
 * steps, and a long invocation holds up only the thread it runs on. Each thread loads the same handler
 * modules (thread.ts) with clients of its own; an invocation's event is posted to the least busy thread
 * (`leastBusy`), and its result or error posted back. A thread that dies fails its invocations (as
 * a crashed sandbox does: the caller retries) and is replaced.
 *
 * @example
 * const threads = await startFunctionThreads({ threads: 2, setup: () => ({ region, endpoints, credentials, environments }) });
 * const answer = await threads.invoke('send', event);
 * await threads.stop();
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker, type MessagePort } from 'node:worker_threads';
import type { FunctionId } from '../../lambdas/functions';
import { localMetrics } from '../../lambdas/runtime/metrics';
import type { ThreadInstrumentationOptions } from './instrumentation';
import { errorOf, type FunctionThreadMessage, type FunctionThreadSetup, type ThreadInvoke, type ThreadLoad } from './messages';

export interface FunctionThreadsOptions {
  /** How many threads. */
  readonly threads: number;
  /** A fresh setup per thread started (its ports are moved to it). */
  readonly setup: () => FunctionThreadSetup;
  readonly instrumentation?: ThreadInstrumentationOptions;
  /** Where a thread's death is reported. @default silent */
  readonly log?: (line: string) => void;
}

export interface FunctionThreads {
  invoke(functionId: FunctionId, event: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * The young generation of a thread's heap: the main thread's default (three 16 MB semi-spaces). The SDK
 * allocates much per request, and with a worker's smaller default a 20 msg/s run's p99 was 80–114 ms,
 * against 64–78 ms with this (the same CPU per message).
 */
const YOUNG_GENERATION_MB = 48;

export interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly functionId: FunctionId;
  /** performance.now() when it was posted. */
  readonly since: number;
  /** How long invocations of its function have taken lately, ms (see `Durations`). */
  readonly expectedMs: number;
}

export interface FunctionThread {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
}

/** Starts the threads and resolves once each has made its clients. */
export async function startFunctionThreads(options: FunctionThreadsOptions): Promise<FunctionThreads> {
  if (!Number.isInteger(options.threads) || options.threads < 1) throw new Error(`functionThreads must be a whole number of threads, at least 1, not ${options.threads}`);
  const log = options.log ?? (() => undefined);
  let stopping = false;
  let nextId = 0;
  /**
   * Functions invoked so far: every thread loads their modules, not only the one that ran the first
   * invocation, so that a thread's cold start of a function comes with the function's first use (one cold
   * start, as on one thread) rather than whenever load first sends it there.
   */
  const used = new Set<FunctionId>();
  const durations = new Durations();

  const start = (): { thread: FunctionThread; ready: Promise<void> } => {
    const setup = options.setup();
    const withInstrumentation: FunctionThreadSetup = options.instrumentation
      ? { ...setup, instrumentation: { module: options.instrumentation.module, ...(options.instrumentation.setup === undefined ? {} : { setup: options.instrumentation.setup }) } }
      : setup;
    const ports: MessagePort[] = setup.ports ? [setup.ports.databases, setup.ports.connections] : [];
    const worker = new Worker(path.join(__dirname, 'entry.cjs'), {
      workerData: withInstrumentation,
      transferList: ports,
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    const thread: FunctionThread = { worker, pending: new Map() };
    for (const functionId of used) worker.postMessage({ type: 'load', functionId } satisfies ThreadLoad);
    const failPending = (error: Error) => {
      for (const { reject } of thread.pending.values()) reject(error);
      thread.pending.clear();
    };
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: FunctionThreadMessage) => {
        switch (message.type) {
          case 'ready':
            return resolve();
          case 'start failed':
            reject(errorOf(message.error));
            void worker.terminate();
            return;
          case 'metrics':
            localMetrics.record(message.emf);
            return;
          case 'result':
          case 'error': {
            if ('report' in message) options.instrumentation?.onReport(message.report);
            const waiting = thread.pending.get(message.id);
            thread.pending.delete(message.id);
            if (waiting) durations.record(waiting.functionId, performance.now() - waiting.since);
            if (message.type === 'result') waiting?.resolve(message.value);
            else waiting?.reject(errorOf(message.error));
            return;
          }
        }
      });
      worker.on('error', (error) => {
        reject(error);
        failPending(error);
      });
      worker.on('exit', (code) => {
        failPending(new Error(`The function thread exited (code ${code}) during the invocation`));
        reject(new Error(`The function thread exited (code ${code}) before it was ready`));
        if (stopping) return;
        // As Lambda replaces a crashed sandbox: the next invocations go to a fresh thread.
        log(`A function thread exited (code ${code}); starting another`);
        const index = threads.indexOf(thread);
        if (index < 0) return;
        const replacement = start();
        replacement.ready.catch((error: unknown) => log(`The function thread started in its place failed: ${String(error)}`));
        threads[index] = replacement.thread;
      });
    });
    return { thread, ready };
  };

  const started = Array.from({ length: options.threads }, start);
  const threads = started.map(({ thread }) => thread);
  const stop = async () => {
    stopping = true;
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  };
  try {
    await Promise.all(started.map(({ ready }) => ready));
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    invoke(functionId, event) {
      if (stopping) return Promise.reject(new Error('The function threads have stopped'));
      const id = ++nextId;
      const expectedMs = durations.expected(functionId);
      const thread = threads[leastBusy(threads, id)]!;
      if (!used.has(functionId)) {
        used.add(functionId);
        for (const other of threads) if (other !== thread) other.worker.postMessage({ type: 'load', functionId } satisfies ThreadLoad);
      }
      return new Promise((resolve, reject) => {
        thread.pending.set(id, { resolve, reject, functionId, since: performance.now(), expectedMs });
        try {
          thread.worker.postMessage({ type: 'invoke', id, functionId, event } satisfies ThreadInvoke);
        } catch (error) {
          // An event that cannot be copied to a thread (a DataCloneError): Lambda takes JSON only.
          thread.pending.delete(id);
          reject(error as Error);
        }
      });
    },
    stop,
  };
}

/**
 * How long each function's invocations have taken lately, ms: a moving average, so that the threads' load
 * counts a group fan-out as the hundred milliseconds of work it will be from the moment it starts, not as
 * the few it has run so far.
 */
export class Durations {
  private readonly mean = new Map<FunctionId, number>();

  record(functionId: FunctionId, ms: number): void {
    const mean = this.mean.get(functionId);
    this.mean.set(functionId, mean === undefined ? ms : mean + (ms - mean) * DURATION_WEIGHT);
  }

  /** 0 for a function not invoked before: its elapsed time stands for it. */
  expected(functionId: FunctionId): number {
    return this.mean.get(functionId) ?? 0;
  }
}

/** The weight of the latest invocation in a function's moving average of durations. */
const DURATION_WEIGHT = 0.2;

/**
 * The thread with the least work in hand: each invocation in flight counts as long as its function's
 * invocations take (or as long as it has run, if longer). A thread that has just started a group fan-out
 * (~100 ms) is passed over for one with a few 1:1 invocations of some milliseconds each, which counting
 * invocations, or their elapsed time alone, would see as busier: an invocation sent to the fan-out's thread
 * runs between its steps, its SEND's ACK ~3× later. Among idle threads, each in turn. Answers its index.
 */
export function leastBusy(threads: readonly Pick<FunctionThread, 'pending'>[], turn: number, now = performance.now()): number {
  const load = (thread: Pick<FunctionThread, 'pending'>) => {
    let work = 0;
    for (const { since, expectedMs } of thread.pending.values()) work += Math.max(expectedMs, now - since);
    return work;
  };
  let chosen = turn % threads.length;
  let least = load(threads[chosen]!);
  threads.forEach((candidate, index) => {
    const candidateLoad = load(candidate);
    if (candidateLoad < least) [chosen, least] = [index, candidateLoad];
  });
  return chosen;
}
