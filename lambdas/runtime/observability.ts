import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * One logger and one tracer per process. Log lines carry ids (userId, deviceId, connectionId), never
 * credentials, tokens, codes, phone numbers or ciphertext.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'parley' });
export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'parley' });

/** Runs `work` in an X-Ray subsegment named for the handler, when tracing is on. */
export async function traced<T>(name: string, work: () => Promise<T>): Promise<T> {
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
