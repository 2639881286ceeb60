import type { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentity } from '@smithy/types';
import { makeConnectionsClient } from './clients/connections';
import { makeDynamoDbClient } from './clients/dynamodb';
import { makeKinesisClient } from './clients/kinesis';
import { makeS3Client } from './clients/s3';
import { makeSnsClient } from './clients/sns';

/**
 * The AWS clients domain code is given. Each is created on first use; a Lambda bundle holds only those its
 * function's definition declares (see `makers`).
 */
export interface Clients {
  readonly db: DynamoDBDocumentClient;
  readonly sns: SNSClient;
  readonly kinesis: KinesisClient;
  readonly s3: S3Client;
  /** The `@connections` API of the WebSocket stage. */
  readonly connections: ApiGatewayManagementApiClient;
}

export type Service = 'dynamodb' | 'sns' | 'kinesis' | 's3' | 'connections';

/** What every client's `requestHandler` setting takes: an SDK `HttpHandler` (the same type for all five). */
export type RequestHandler = NonNullable<DynamoDBClientConfig['requestHandler']>;

/** What every client's `httpAuthSchemes` setting takes: how it finds an identity and signs with it. */
export type AuthSchemes = NonNullable<DynamoDBClientConfig['httpAuthSchemes']>;

export interface ClientSettings {
  readonly region: string;
  /** Endpoint per service; unset means the AWS default (or, for `connections`, required). */
  readonly endpoints?: Partial<Record<Service, string>>;
  /** Credentials per service; unset means the SDK's default provider chain. */
  readonly credentials?: Partial<Record<Service, AwsCredentialIdentity>>;
  /** Called with each client as it is made: the place for X-Ray capture or request counting. */
  readonly instrument?: <T extends object>(client: T) => T;
  /**
   * The handler that sends each signed request, per service; unset means the SDK's HTTP handler. The local
   * runtime hands DynamoDB and Kinesis requests to the emulators in process (local/aws/in-process-handler.ts).
   */
  readonly requestHandlers?: Partial<Record<Service, RequestHandler>>;
  /**
   * The auth schemes per service; unset means the SDK's (SigV4 with its own signer). The local runtime's
   * in-process transport stamps requests to emulators that check no signature (local/aws/unverified-signing.ts).
   */
  readonly authSchemes?: Partial<Record<Service, AuthSchemes>>;
}

/** What one service's client is made from: the region, and the endpoint, credentials and request handler set for it. */
export interface ClientConfig {
  readonly region: string;
  readonly endpoint?: string;
  readonly credentials?: AwsCredentialIdentity;
  readonly requestHandler?: RequestHandler;
  readonly httpAuthSchemes?: AuthSchemes;
}

/** Makes one client (`lambdas/runtime/clients/*.ts`), passing each SDK client it creates through `instrument`. */
export type MakeClient<K extends keyof Clients> = (
  config: ClientConfig,
  settings: { readonly instrument: <T extends object>(client: T) => T },
) => Clients[K];

const serviceOf = { db: 'dynamodb', sns: 'sns', kinesis: 'kinesis', s3: 's3', connections: 'connections' } as const satisfies Record<
  keyof Clients,
  Service
>;

/**
 * Each client's maker, in a module of its own so that a Lambda bundle holds only the SDK clients its
 * function uses: for every service a function's definition does not use, its bundling defines
 * `process.env.PARLEY_BUNDLE_WITHOUT_<SERVICE>` (lib/bundled-clients.ts), the condition folds to a constant
 * and esbuild drops the maker and the SDK client behind it. Imports, not `require`s: a `require`d module is
 * wrapped whole, and everything it imports with it (DynamoDB's aggregated client and its 63 commands).
 * Nothing sets these at run time, so the local runtime and tests load all.
 */
const makers: { readonly [K in keyof Clients]?: MakeClient<K> } = {
  db: process.env.PARLEY_BUNDLE_WITHOUT_DYNAMODB ? undefined : makeDynamoDbClient,
  sns: process.env.PARLEY_BUNDLE_WITHOUT_SNS ? undefined : makeSnsClient,
  kinesis: process.env.PARLEY_BUNDLE_WITHOUT_KINESIS ? undefined : makeKinesisClient,
  s3: process.env.PARLEY_BUNDLE_WITHOUT_S3 ? undefined : makeS3Client,
  connections: process.env.PARLEY_BUNDLE_WITHOUT_CONNECTIONS ? undefined : makeConnectionsClient,
};

export function createClients(settings: ClientSettings): Clients {
  // Only the settings given: an SDK client reads a key set to undefined as a value.
  const configOf = (service: Service): ClientConfig =>
    Object.fromEntries(
      Object.entries({
        region: settings.region,
        endpoint: settings.endpoints?.[service],
        credentials: settings.credentials?.[service],
        requestHandler: settings.requestHandlers?.[service],
        httpAuthSchemes: settings.authSchemes?.[service],
      }).filter(([, value]) => value),
    ) as unknown as ClientConfig;
  const instrument = settings.instrument ?? (<T>(client: T) => client);
  const made: Partial<Clients> = {};
  const once = <K extends keyof Clients>(key: K): Clients[K] => {
    const make = makers[key] as MakeClient<K> | undefined;
    if (!make) {
      throw new Error(`The ${serviceOf[key]} client is not in this bundle: its function's definition (lambdas/functions.ts) declares nothing that uses it`);
    }
    return ((made as Record<K, Clients[K]>)[key] ??= make(configOf(serviceOf[key]), { instrument }));
  };

  return {
    get db() {
      return once('db');
    },
    get sns() {
      return once('sns');
    },
    get kinesis() {
      return once('kinesis');
    },
    get s3() {
      return once('s3');
    },
    get connections() {
      return once('connections');
    },
  };
}
