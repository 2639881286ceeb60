/**
 * The environment of each function, derived from its definition: the names of exactly the resources it
 * declared, and nothing else. The CDK stack passes resource names as tokens; the local runtime passes
 * the names of its emulated resources. A function that reads a resource it did not declare finds no
 * variable and fails the same way in both places.
 */
import type { FunctionDefinition } from './functions';
import { buckets, env, streams, tables, type BucketId, type PushPlatform, type StreamId, type TableId } from './resources';

export interface ResourceNames {
  readonly tables: Readonly<Record<TableId, string>>;
  readonly streams: Readonly<Record<StreamId, string>>;
  readonly buckets: Readonly<Record<BucketId, string>>;
  /** The WebSocket stage's `@connections` endpoint; read only for functions that manage connections. */
  readonly connectionsEndpoint: string;
  /**
   * The SNS platform application ARN of each push platform the deployment has, as the JSON text of a
   * `Partial<Record<PushPlatform, string>>` (`{}`: push is off); read only for functions with `pushEndpoints`.
   */
  readonly pushPlatformApplications: string;
  /** The JSON of the deployment's `SmsLimits` (`lambdas/accounts/constants.ts`); read only for functions that send SMS. */
  readonly smsLimits: string;
  /**
   * The SEND rate limits as the JSON of `SendRateLimits`, when the deployment overrides the defaults;
   * given only to functions that `limitsSends`.
   */
  readonly sendRateLimits?: string;
}

/** The JSON of `ResourceNames.pushPlatformApplications`: platform → SNS platform application ARN. */
export type PushPlatformApplications = Partial<Record<PushPlatform, string>>;

export const SERVICE_NAME = 'parley';

export function functionEnvironment(definition: FunctionDefinition, names: ResourceNames): Record<string, string> {
  const environment: Record<string, string> = { [env.serviceName]: SERVICE_NAME };
  for (const id of Object.keys(definition.tables ?? {}) as TableId[]) environment[tables[id].envVar] = names.tables[id];
  for (const id of definition.putsTo ?? []) environment[streams[id].envVar] = names.streams[id];
  for (const id of definition.uploadsTo ?? []) environment[buckets[id].envVar] = names.buckets[id];
  if (definition.manageConnections) environment[env.connectionsEndpoint] = names.connectionsEndpoint;
  if (definition.pushEndpoints?.length) environment[env.pushPlatformApplications] = names.pushPlatformApplications;
  if (definition.sendsSms) environment[env.smsLimits] = names.smsLimits;
  if (definition.limitsSends && names.sendRateLimits) environment[env.sendRateLimits] = names.sendRateLimits;
  return environment;
}
