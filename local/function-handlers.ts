/** The handler modules, loaded the way Lambda loads them: on the main thread or on a function thread alike. */
import path from 'node:path';
import type { Deps } from '../lambdas/runtime/deps';
import type { Handler } from '../lambdas/runtime/lambda-handler';
import { functions, type FunctionId } from '../lambdas/functions';

/** What the runtime calls to run one invocation of a function. */
export type Invoke = (event: unknown) => Promise<unknown>;

/**
 * Loads a handler module by its entry file, exporting `handler`, as Lambda does. `require`, not `import()`:
 * on a function thread tsx compiles what is required, while an `import()` of TypeScript would fail there.
 */
async function loadHandler(id: FunctionId): Promise<Handler<unknown, unknown>> {
  const module = require(path.join(__dirname, '..', functions[id].entry)) as { handler: Handler<unknown, unknown> };
  return module.handler;
}

/** A function's handler, loaded at its first invocation or when asked. */
export interface LazyHandler extends Invoke {
  /** Loads the module now, if it is not loaded yet. */
  load(): Promise<Invoke>;
}

/**
 * A function's handler, loaded at its first invocation as Lambda loads it at its first cold start: a start
 * (and every test file that makes one) pays only for the functions it calls.
 */
export function loadedOnFirstCall(id: FunctionId, deps: Deps): LazyHandler {
  let loaded: Promise<Invoke> | undefined;
  const load = () => (loaded ??= loadHandler(id).then((handler) => handler.withDeps(deps)));
  return Object.assign(async (event: unknown) => (await load())(event), { load });
}
