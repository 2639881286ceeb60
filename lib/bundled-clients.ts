import type { FunctionDefinition } from '../lambdas/functions';
import type { Service } from '../lambdas/runtime/clients';

/** The module a bundle takes in place of `@smithy/core/event-streams` when none of its clients has event streams. */
export const WITHOUT_EVENT_STREAMS_MODULE = 'lambdas/runtime/without-event-streams.ts';

/** The services whose SDK clients have event-stream operations, and import `@smithy/core/event-streams` statically. */
const SERVICES_WITH_EVENT_STREAMS: readonly Service[] = ['kinesis', 's3'];

const ALL_SERVICES: readonly Service[] = ['dynamodb', 'sns', 'kinesis', 's3', 'connections'];

/**
 * The AWS services whose clients a function's code may reach: those its definition declares access to.
 * The same declarations give it the resource names and grants, so a call to any other service would fail
 * on a missing variable or permission anyway.
 */
export function servicesUsedBy(definition: FunctionDefinition): ReadonlySet<Service> {
  const used = new Set<Service>();
  if (Object.keys(definition.tables ?? {}).length > 0) used.add('dynamodb');
  if (definition.sendsSms || definition.pushEndpoints?.length) used.add('sns');
  if (definition.putsTo?.length) used.add('kinesis');
  if (definition.uploadsTo?.length) used.add('s3');
  if (definition.manageConnections) used.add('connections');
  return used;
}

/**
 * esbuild `define`s that leave the client of every service a function does not use out of its bundle
 * (the `makers` of lambdas/runtime/clients.ts): `process.env.PARLEY_BUNDLE_WITHOUT_S3` and so on.
 *
 * @example
 * bundleDefinesFor({ entry: 'lambdas/connect/disconnect.ts', description: '', tables: { routing: 'readWrite' } });
 * // { 'process.env.PARLEY_BUNDLE_WITHOUT_SNS': '"true"', ... } — every service but DynamoDB
 */
export function bundleDefinesFor(definition: FunctionDefinition): Record<string, string> {
  const used = servicesUsedBy(definition);
  return Object.fromEntries(
    ALL_SERVICES.filter((service) => !used.has(service)).map((service) => [`process.env.PARLEY_BUNDLE_WITHOUT_${service.toUpperCase()}`, '"true"']),
  );
}

/**
 * esbuild aliases (`<package>=<path>`, paths from the project root) of one function's bundle: with no client
 * that has event-stream operations, `@smithy/core/event-streams`, which the others reach only through a
 * dynamic `import()` they never make, gives way to lambdas/runtime/without-event-streams.ts (~15 KB less).
 *
 * @example
 * bundleAliasesFor(functions.disconnect); // ['@smithy/core/event-streams=./lambdas/runtime/without-event-streams.ts']
 * bundleAliasesFor(functions.send);       // [] — Kinesis
 */
export function bundleAliasesFor(definition: FunctionDefinition): string[] {
  const used = servicesUsedBy(definition);
  return SERVICES_WITH_EVENT_STREAMS.some((service) => used.has(service)) ? [] : [`@smithy/core/event-streams=./${WITHOUT_EVENT_STREAMS_MODULE}`];
}
