/**
 * A function thread's body: the same handler modules as on the main thread, each loaded at its first
 * invocation, with clients made by `createClients` for each invocation running at once (invocation-slots.ts).
 * DynamoDB, Kinesis and `@connections` requests go through ports (to the emulators, and to the main thread's gateway), S3 and SNS over loopback,
 * as on the main thread. The handlers' metrics go to the main thread's registry. See threads.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createClients, type RequestHandler } from '../../lambdas/runtime/clients';
import { localMetrics } from '../../lambdas/runtime/metrics';
import { RequestChannel } from '../aws/request-port';
import { loadedOnFirstCall } from '../function-handlers';
import { InvocationSlots } from './invocation-slots';
import type { CreateThreadInstrumentation, ThreadInstrumentation } from './instrumentation';
import { crossedError, type FunctionThreadMessage, type FunctionThreadSetup, type ThreadInvoke, type ThreadLoad } from './messages';

const port = parentPort!;
const post = (message: FunctionThreadMessage) => port.postMessage(message);

async function main(setup: FunctionThreadSetup): Promise<void> {
  let instrumentation: ThreadInstrumentation | undefined;
  if (setup.instrumentation) {
    const module = require(setup.instrumentation.module) as { createThreadInstrumentation: CreateThreadInstrumentation };
    instrumentation = module.createThreadInstrumentation({ resources: setup.resources, ...(setup.instrumentation.setup === undefined ? {} : { setup: setup.instrumentation.setup }) });
  }
  const channels = setup.ports ? { databases: new RequestChannel(setup.ports.databases), connections: new RequestChannel(setup.ports.connections) } : undefined;
  /** A slot's requests to the emulators carry its name, so that they are served in turn with other invocations'. */
  const requestHandlersNamed = (caller: string): Record<string, RequestHandler> =>
    channels
      ? {
          dynamodb: channels.databases.handlerFor('dynamodb', caller) as unknown as RequestHandler,
          kinesis: channels.databases.handlerFor('kinesis', caller) as unknown as RequestHandler,
          connections: channels.connections.handlerFor('connections') as unknown as RequestHandler,
        }
      : {};
  const slots = new InvocationSlots(
    (name) =>
      createClients({
        region: setup.region,
        endpoints: setup.endpoints,
        credentials: setup.credentials,
        requestHandlers: requestHandlersNamed(name),
        ...(instrumentation ? { instrument: instrumentation.instrumentClients } : {}),
      }),
    (functionId, clients) => loadedOnFirstCall(functionId, { env: setup.environments[functionId], clients, now: Date.now }),
  );
  // What CloudWatch would receive from this sandbox goes to the one registry GET /metrics serves.
  localMetrics.forwardTo((emf) => post({ type: 'metrics', emf }));

  port.on('message', (message: ThreadInvoke | ThreadLoad) => {
    if (message.type === 'load') {
      void slots.load(message.functionId).catch(() => undefined); // The invocation that needs it will fail with the error.
      return;
    }
    slots.invoke(message.functionId, message.event).then(
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
