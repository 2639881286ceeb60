import { env as envNames, tables, streams, buckets, type TableId, type StreamId, type BucketId } from '../resources';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Clients } from './clients';
import type { LambdaTrace } from './lambda-trace';

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * What domain code is given instead of reaching for globals: its clients, its environment (resource
 * names, endpoints) and a clock. Lambda builds it from `process.env`; the local runtime and tests pass their own.
 */
export interface Deps {
  readonly clients: Clients;
  readonly env: Environment;
  /** Epoch milliseconds. */
  readonly now: () => number;
  /**
   * X-Ray through its SDK, on Lambda only, where `parley:tracing` is `subsegments`; without it or
   * `lambdaTrace` nothing is traced (see `message-trace.ts`).
   */
  readonly tracer?: Tracer;
  /** Lambda's active tracing alone, on Lambda only, where `parley:tracing` is `active` (the default). */
  readonly lambdaTrace?: LambdaTrace;
}

function required(deps: Deps, name: string): string {
  const value = deps.env[name];
  // A function that reads a resource it did not declare in lambdas/functions.ts fails here, on AWS and
  // locally alike, instead of failing later on a missing IAM grant.
  if (!value) throw new Error(`Environment variable ${name} is not set for this function`);
  return value;
}

export const tableName = (deps: Deps, id: TableId): string => required(deps, tables[id].envVar);
export const streamName = (deps: Deps, id: StreamId): string => required(deps, streams[id].envVar);
export const bucketName = (deps: Deps, id: BucketId): string => required(deps, buckets[id].envVar);
export const connectionsEndpoint = (deps: Deps): string => required(deps, envNames.connectionsEndpoint);
/** The JSON of the push platform applications; see `lambdas/push/platform-applications.ts`. */
export const pushPlatformApplicationsJson = (deps: Deps): string => required(deps, envNames.pushPlatformApplications);
