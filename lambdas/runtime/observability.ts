import { AsyncLocalStorage } from 'node:async_hooks';
import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import type { Tracer } from '@aws-lambda-powertools/tracer';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'parley';

/**
 * Correlation ids of the work in progress (a frame, a stream record): `connectionId`, `device`
 * (`userId.deviceId`), `route`, `msgId`, `conversationId`. Scoped by async context rather than appended to
 * the logger, so they end with their work and never leak into the next invocation, nor into work running
 * beside it in the same process (the local runtime runs every function, and the fanout runs records of
 * different conversations side by side).
 */
const correlation = new AsyncLocalStorage<LogAttributes>();

/** Runs `work` with `keys` on every line it logs (on top of any keys of the work that runs it). */
export function withLogKeys<T>(keys: LogAttributes, work: () => T): T {
  return correlation.run({ ...correlation.getStore(), ...defined(keys) }, work);
}

/** Adds `keys` to the correlation ids of the work in progress, e.g. once a frame is parsed. */
export function appendLogKeys(keys: LogAttributes): void {
  const store = correlation.getStore();
  if (store) Object.assign(store, defined(keys));
}

function defined(keys: LogAttributes): LogAttributes {
  return Object.fromEntries(Object.entries(keys).filter(([, value]) => value !== undefined));
}

/** Powertools' standard JSON lines, with the correlation ids of the work in progress. */
class CorrelatedLogFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        cold_start: attributes.lambdaContext?.coldStart,
        function_arn: attributes.lambdaContext?.invokedFunctionArn,
        function_memory_size: attributes.lambdaContext?.memoryLimitInMB,
        function_name: attributes.lambdaContext?.functionName,
        function_request_id: attributes.lambdaContext?.awsRequestId,
        sampling_rate: attributes.sampleRateValue,
        xray_trace_id: attributes.xRayTraceId,
        ...correlation.getStore(),
      },
    }).addAttributes(additional);
  }
}

/**
 * One logger per process. Log lines carry ids (userId, deviceId, connectionId, msgId, conversationId),
 * never credentials, tokens, codes, phone numbers, ciphertext or frame contents. Level from
 * `POWERTOOLS_LOG_LEVEL`, debug sampling from `POWERTOOLS_LOGGER_SAMPLE_RATE`.
 */
export const logger = new Logger({ serviceName, logFormatter: new CorrelatedLogFormatter() });

let tracer: Tracer | undefined;

/**
 * The process's tracer, loaded on first use, which only the Lambda entry point makes: loading X-Ray's SDK
 * installs async hooks that tax every await of the local runtime, which runs all functions in one process.
 * Only a bundle built with `parley:tracing` = `subsegments` holds it (lib/functions.ts).
 */
export function lambdaTracer(): Tracer {
  // The bundle's `define` makes the condition a constant, and esbuild then leaves the `require` out.
  if (!tracer && !process.env.PARLEY_BUNDLE_WITHOUT_XRAY_SDK) {
    const { Tracer } = require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer');
    tracer = new Tracer({ serviceName });
  }
  if (!tracer) throw new Error('This bundle has no X-Ray SDK: parley:tracing is active');
  return tracer;
}

/** Runs `work` in an X-Ray subsegment named for the handler, when tracing is on. */
export async function traced<T>(tracer: Tracer, name: string, work: () => Promise<T>): Promise<T> {
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
