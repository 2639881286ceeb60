/** What the main thread and a function thread (local/function-threads/) tell each other. */
import type { MessagePort } from 'node:worker_threads';
import type { EmfOutput } from '@aws-lambda-powertools/metrics/types';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { FunctionId } from '../../lambdas/functions';
import type { Service } from '../../lambdas/runtime/clients';
import type { ResourceNames } from '../../lambdas/function-environment';

/** A function thread's `workerData`: how to make its clients, and each function's environment. */
export interface FunctionThreadSetup {
  readonly region: string;
  readonly endpoints: Partial<Record<Service, string>>;
  readonly credentials: Partial<Record<Service, AwsCredentialIdentity>>;
  /**
   * Ports to the services reached in process (`awsTransport: 'in-process'`): DynamoDB and Kinesis where the
   * emulators run, `@connections` to the main thread's gateway. Unset: every client goes over loopback HTTP.
   */
  readonly ports?: { readonly databases: MessagePort; readonly connections: MessagePort };
  readonly environments: Readonly<Record<FunctionId, Record<string, string>>>;
  /** The runtime's resource names, for the instrumentation. */
  readonly resources: ResourceNames;
  /** See `ThreadInstrumentation`. */
  readonly instrumentation?: { readonly module: string; readonly setup?: unknown };
}

export interface ThreadInvoke {
  readonly type: 'invoke';
  readonly id: number;
  readonly functionId: FunctionId;
  readonly event: unknown;
}

/** Load a function's module now: another thread has run it, and this one will be asked to. */
export interface ThreadLoad {
  readonly type: 'load';
  readonly functionId: FunctionId;
}

/** An error as it crosses threads: a thrown `Error` loses its class, so its name, message and stack go. */
export interface CrossedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

export type FunctionThreadMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'start failed'; readonly error: CrossedError }
  | { readonly type: 'result'; readonly id: number; readonly value: unknown; readonly report?: unknown }
  | { readonly type: 'error'; readonly id: number; readonly error: CrossedError; readonly report?: unknown }
  | { readonly type: 'metrics'; readonly emf: EmfOutput };

export function crossedError(error: unknown): CrossedError {
  const { name, message, stack } = error instanceof Error ? error : new Error(String(error));
  return { name, message, ...(stack ? { stack } : {}) };
}

/** The error again on the other side, with its name, message and the stack where it was thrown. */
export function errorOf(crossed: CrossedError): Error {
  const error = new Error(crossed.message);
  error.name = crossed.name;
  if (crossed.stack) error.stack = crossed.stack;
  return error;
}
