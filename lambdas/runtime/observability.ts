import { Logger } from '@aws-lambda-powertools/logger';
import type { Tracer } from '@aws-lambda-powertools/tracer';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'parley';

/**
 * One logger per process. Log lines carry ids (userId, deviceId, connectionId), never credentials,
 * tokens, codes, phone numbers or ciphertext.
 */
export const logger = new Logger({ serviceName });

let tracer: Tracer | undefined;

/**
 * The process's tracer, loaded on first use, which only the Lambda entry point makes: loading X-Ray's SDK
 * installs async hooks that tax every await of the local runtime, which runs all functions in one process.
 */
export function lambdaTracer(): Tracer {
  if (!tracer) {
    const { Tracer } = require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer');
    tracer = new Tracer({ serviceName });
  }
  return tracer;
}

/** Runs `work` in an X-Ray subsegment named for the handler, when tracing is on. */
export async function traced<T>(name: string, work: () => Promise<T>): Promise<T> {
  const tracer = lambdaTracer();
  if (!tracer.isTracingEnabled()) return work();
  const parent = tracer.getSegment();
  if (!parent) return work();
  const segment = parent.addNewSubsegment(`## ${name}`);
  tracer.setSegment(segment);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  try {
    return await work();
  } catch (error) {
    segment.addError(error as Error);
    throw error;
  } finally {
    segment.close();
    tracer.setSegment(parent);
  }
}
