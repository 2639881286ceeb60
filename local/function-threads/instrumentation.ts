/**
 * How a function thread's clients are instrumented. `ParleyLocalOptions.instrumentClients` is a function of
 * the main thread and cannot cross to another: instead each thread loads a module that makes its own
 * instrumentation, and posts what it counted back with each invocation's result.
 *
 * @example
 * // bench/thread-request-counter.ts
 * export const createThreadInstrumentation: CreateThreadInstrumentation = ({ resources }) => {
 *   const counter = new RequestCounter();
 *   counter.nameTables(resources.tables);
 *   return { instrumentClients: counter.instrument, takeReport: () => counter.drain() };
 * };
 */
import type { ResourceNames } from '../../lambdas/function-environment';

export interface ThreadInstrumentation {
  /** Called with each AWS client the thread's handlers use, as it is made. */
  readonly instrumentClients: <T extends object>(client: T) => T;
  /** What was counted since the last call; posted to the main thread's `onReport` after each invocation. */
  takeReport(): unknown;
}

/**
 * What the instrumentation module exports, by this name: called once per thread with the runtime's resource
 * names and the `setup` the main thread gave with the module's path.
 */
export type CreateThreadInstrumentation = (context: { readonly resources: ResourceNames; readonly setup?: unknown }) => ThreadInstrumentation;

/** The main thread's side: which module each thread loads, with what, and where its reports go. */
export interface ThreadInstrumentationOptions {
  /** An absolute path to a module exporting `createThreadInstrumentation`. */
  readonly module: string;
  /** Structured-cloneable data for it (e.g. table names). */
  readonly setup?: unknown;
  /** Each thread's report, on the main thread, before the invocation's result is given to its caller. */
  readonly onReport: (report: unknown) => void;
}
