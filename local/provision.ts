/**
 * Creates Parley's tables, streams and buckets in the local emulators, from the same definitions the CDK
 * stack deploys (`lambdas/resources.ts`). Safe to run on every start: what exists is kept.
 */
import {
  buckets,
  streams,
  tables,
  type BucketId,
  type StreamDefinition,
  type StreamId,
  type TableDefinition,
  type TableId,
} from '../lambdas/resources';
import type { Clients } from '../lambdas/runtime/clients';
import { ensureBucket } from './resources/bucket';
import { ensureStream } from './resources/stream';
import { ensureTable } from './resources/table';

export type ResourceKind = 'table' | 'stream' | 'bucket';

/** The name a resource gets from its id in the definitions. */
export type ResourceNaming = (id: string, kind: ResourceKind) => string;

/** `parley-local-<id in kebab case>`, e.g. `parley-local-verification-codes`: valid as a bucket name too. */
export const localResourceName: ResourceNaming = (id) =>
  `parley-local-${id.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;

export interface ResourceDefinitions<
  T extends string = TableId,
  S extends string = StreamId,
  B extends string = BucketId,
> {
  readonly tables: Readonly<Record<T, TableDefinition>>;
  readonly streams: Readonly<Record<S, StreamDefinition>>;
  readonly buckets: Readonly<Record<B, { readonly envVar: string }>>;
}

/** Parley's own resources, as `lambdas/resources.ts` defines them. */
export const parleyResources: ResourceDefinitions = { tables, streams, buckets };

/**
 * The name of every resource by id: with the gateway's `connectionsEndpoint` added, the `ResourceNames` that
 * `lambdas/function-environment.ts` derives each function's environment from.
 */
export interface ProvisionedResources<
  T extends string = TableId,
  S extends string = StreamId,
  B extends string = BucketId,
> {
  readonly tables: Readonly<Record<T, string>>;
  readonly streams: Readonly<Record<S, string>>;
  readonly buckets: Readonly<Record<B, string>>;
  /** Each definition's `envVar` → its resource's name: the environment that finds every resource. */
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * Creates every table (on demand, with its keys, local indexes and TTL), stream (with its `localShards`, waiting until
 * ACTIVE) and bucket, and tells their names.
 *
 * @example
 * const { endpoints, credentials } = await startAwsEmulators();
 * const clients = createClients({ region: 'us-east-1', endpoints, credentials });
 * const { tables, environment } = await provisionResources(clients);
 * tables.accounts; // 'parley-local-accounts'
 * environment.ACCOUNTS_TABLE; // 'parley-local-accounts'
 */
export async function provisionResources<
  T extends string = TableId,
  S extends string = StreamId,
  B extends string = BucketId,
>(
  clients: Pick<Clients, 'db' | 'kinesis' | 's3'>,
  // Without definitions, T, S and B keep their defaults, which are exactly the ids of parleyResources.
  definitions: ResourceDefinitions<T, S, B> = parleyResources as unknown as ResourceDefinitions<T, S, B>,
  naming: ResourceNaming = localResourceName,
): Promise<ProvisionedResources<T, S, B>> {
  const tableNames = nameEach(definitions.tables, 'table', naming);
  const streamNames = nameEach(definitions.streams, 'stream', naming);
  const bucketNames = nameEach(definitions.buckets, 'bucket', naming);
  await Promise.all([
    ...entriesOf(definitions.tables).map(([id, table]) => ensureTable(clients.db, tableNames[id], table)),
    ...entriesOf(definitions.streams).map(([id, stream]) =>
      ensureStream(clients.kinesis, streamNames[id], stream.localShards),
    ),
    ...entriesOf(definitions.buckets).map(([id]) => ensureBucket(clients.s3, bucketNames[id])),
  ]);
  return {
    tables: tableNames,
    streams: streamNames,
    buckets: bucketNames,
    environment: {
      ...environmentOf(definitions.tables, tableNames),
      ...environmentOf(definitions.streams, streamNames),
      ...environmentOf(definitions.buckets, bucketNames),
    },
  };
}

function nameEach<K extends string>(
  definitions: Readonly<Record<K, unknown>>,
  kind: ResourceKind,
  naming: ResourceNaming,
): Record<K, string> {
  return Object.fromEntries(Object.keys(definitions).map((id) => [id, naming(id, kind)])) as Record<K, string>;
}

function environmentOf<K extends string>(
  definitions: Readonly<Record<K, { readonly envVar: string }>>,
  names: Readonly<Record<K, string>>,
): Record<string, string> {
  return Object.fromEntries(entriesOf(definitions).map(([id, definition]) => [definition.envVar, names[id]]));
}

function entriesOf<K extends string, V>(record: Readonly<Record<K, V>>): [K, V][] {
  return Object.entries(record) as [K, V][];
}
