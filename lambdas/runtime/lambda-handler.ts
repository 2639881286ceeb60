import type { Context } from 'aws-lambda';
import { createClients } from './clients';
import type { Deps } from './deps';
import { env as envNames } from '../resources';
import { lambdaTraceOf } from './lambda-trace';
import { flushMetrics } from './metrics';
import { lambdaTracer, logger, traced } from './observability';

/** A Lambda handler that can also be run with deps of the caller's choosing (local runtime, tests). */
export type Handler<E, R> = ((event: E, context?: Context) => Promise<R>) & {
  withDeps(deps: Deps): (event: E) => Promise<R>;
};

let lambdaDeps: Deps | undefined;

/**
 * Deps of a function running on AWS Lambda: its environment, its clients, and its tracing as the bundle was
 * built for (`parley:tracing`, lib/functions.ts): Lambda's active tracing alone, or the X-Ray SDK's tracer
 * with every client's calls as subsegments.
 */
function depsFromProcess(): Deps {
  const tracer = process.env.PARLEY_BUNDLE_WITHOUT_XRAY_SDK ? undefined : lambdaTracer();
  return (lambdaDeps ??= {
    env: process.env,
    now: Date.now,
    ...(tracer ? { tracer } : { lambdaTrace: lambdaTraceOf(process.env) }),
    clients: createClients({
      region: process.env.AWS_REGION ?? 'us-east-1',
      endpoints: { connections: process.env[envNames.connectionsEndpoint] },
      ...(tracer ? { instrument: (client) => tracer.captureAWSv3Client(client) } : {}),
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
      const deps = depsFromProcess();
      return await (deps.tracer ? traced(deps.tracer, name, () => run(event, deps)) : run(event, deps));
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
