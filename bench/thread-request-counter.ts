/**
 * The bench's request counting on a function thread of the local runtime (`ParleyLocalOptions.functionThreads`):
 * a `RequestCounter` of the thread's own instruments its clients, and what it counted goes to the main
 * thread's counter with each invocation's result (`RequestCounter.add`). Invocations themselves are counted
 * on the main thread, by `intercept`.
 */
import type { CreateThreadInstrumentation } from '../local/function-threads/instrumentation';
import { RequestCounter } from './request-counter';

export const createThreadInstrumentation: CreateThreadInstrumentation = ({ resources }) => {
  const counter = new RequestCounter();
  counter.nameTables(resources.tables);
  counter.nameStreams(resources.streams);
  return {
    instrumentClients: counter.instrument,
    takeReport: () => counter.drain(),
  };
};
