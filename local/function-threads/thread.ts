/**
 * A function thread's body: the same handler modules as on the main thread, each loaded at its first
 * invocation, with clients of the thread's own made by `createClients`. DynamoDB, Kinesis and `@connections`
 * requests go through ports (to the emulators, and to the main thread's gateway), S3 and SNS over loopback,
 * as on the main thread. The handlers' metrics go to the main thread's registry. See threads.ts.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { createClients, type RequestHandler } from '../../lambdas/runtime/clients';
import type { FunctionId } from '../../lambdas/functions';
import { localMetrics } from '../../lambdas/runtime/metrics';
import { RequestChannel } from '../aws/request-port';
import { loadedOnFirstCall, type LazyHandler } from '../function-handlers';
import type { CreateThreadInstrumentation, ThreadInstrumentation } from './instrumentation';
import { crossedError, type FunctionThreadMessage, type FunctionThreadSetup, type ThreadInvoke, type ThreadLoad } from './messages';
import { inProcessAuthSchemes } from '../aws/unverified-signing';

const port = parentPort!;
const post = (message: FunctionThreadMessage) => port.postMessage(message);
/** The invocation running, which names its requests to the emulators so they are served in turn. */
const invocation = new AsyncLocalStorage<string>();

async function main(setup: FunctionThreadSetup): Promise<void> {
  let instrumentation: ThreadInstrumentation | undefined;
  if (setup.instrumentation) {
    const module = require(setup.instrumentation.module) as { createThreadInstrumentation: CreateThreadInstrumentation };
    instrumentation = module.createThreadInstrumentation({ resources: setup.resources, ...(setup.instrumentation.setup === undefined ? {} : { setup: setup.instrumentation.setup }) });
  }
  const requestHandlers: Record<string, RequestHandler> = {};
  if (setup.ports) {
    const databases = new RequestChannel(setup.ports.databases, () => invocation.getStore());
    const connections = new RequestChannel(setup.ports.connections);
    requestHandlers.dynamodb = databases.handlerFor('dynamodb') as unknown as RequestHandler;
    requestHandlers.kinesis = databases.handlerFor('kinesis') as unknown as RequestHandler;
    requestHandlers.connections = connections.handlerFor('connections') as unknown as RequestHandler;
  }
  const clients = createClients({
    region: setup.region,
    endpoints: setup.endpoints,
    credentials: setup.credentials,
    requestHandlers,
    ...(setup.ports ? { authSchemes: inProcessAuthSchemes } : {}),
    ...(instrumentation ? { instrument: instrumentation.instrumentClients } : {}),
  });
  // What CloudWatch would receive from this sandbox goes to the one registry GET /metrics serves.
  localMetrics.forwardTo((emf) => post({ type: 'metrics', emf }));

  const invokers = new Map<FunctionId, LazyHandler>();
  const invokerOf = (id: FunctionId) => {
    let invoke = invokers.get(id);
    if (!invoke) invokers.set(id, (invoke = loadedOnFirstCall(id, { env: setup.environments[id], clients, now: Date.now })));
    return invoke;
  };
  port.on('message', (message: ThreadInvoke | ThreadLoad) => {
    if (message.type === 'load') {
      void invokerOf(message.functionId)
        .load()
        .catch(() => undefined); // The invocation that needs it will fail with the error.
      return;
    }
    invocation.run(String(message.id), () => invokerOf(message.functionId)(message.event)).then(
      (value) => post({ type: 'result', id: message.id, value, ...report(instrumentation) }),
      (error: unknown) => post({ type: 'error', id: message.id, error: crossedError(error), ...report(instrumentation) }),
    );
  });
  post({ type: 'ready' });
}

function report(instrumentation: ThreadInstrumentation | undefined): { report?: unknown } {
  const taken = instrumentation?.takeReport();
  return taken === undefined ? {} : { report: taken };
}

main(workerData as FunctionThreadSetup).catch((error: unknown) => post({ type: 'start failed', error: crossedError(error) }));
