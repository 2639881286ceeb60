import type { Context } from 'aws-lambda';
import { createClients } from './clients';
import type { Deps } from './deps';
import { env as envNames } from '../resources';
import { flushMetrics } from './metrics';
import { lambdaTracer, logger, traced } from './observability';

/** A Lambda handler that can also be run with deps of the caller's choosing (local runtime, tests). */
export type Handler<E, R> = ((event: E, context?: Context) => Promise<R>) & {
  withDeps(deps: Deps): (event: E) => Promise<R>;
};

let lambdaDeps: Deps | undefined;

/** Deps of a function running on AWS Lambda: its environment and X-Ray-traced clients. */
function depsFromProcess(): Deps {
  return (lambdaDeps ??= {
    env: process.env,
    now: Date.now,
    tracer: lambdaTracer(),
    clients: createClients({
      region: process.env.AWS_REGION ?? 'us-east-1',
      endpoints: { connections: process.env[envNames.connectionsEndpoint] },
      instrument: (client) => lambdaTracer().captureAWSv3Client(client),
    }),
  });
}

export function defineHandler<E, R>(name: string, run: (event: E, deps: Deps) => Promise<R>): Handler<E, R> {
  const handler = async (event: E, context?: Context): Promise<R> => {
    if (context) logger.addContext(context);
    // Powertools' middleware would draw the debug-sampling decision per invocation; without it, draw it here,
    // or a cold start's draw would hold for every invocation of the container.
    logger.refreshSampleRateCalculation();
    try {
      return await traced(name, () => run(event, depsFromProcess()));
    } finally {
      flushMetrics();
    }
  };
  const withDeps = (deps: Deps) => async (event: E) => {
    try {
      return await run(event, deps);
    } finally {
      flushMetrics();
    }
  };
  return Object.assign(handler, { withDeps });
}
