import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentity } from '@smithy/types';

/** The AWS clients domain code is given. Each is created on first use, so a handler pays only for what it uses. */
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
}

export function createClients(settings: ClientSettings): Clients {
  const base = (service: Service) => ({
    region: settings.region,
    ...(settings.endpoints?.[service] ? { endpoint: settings.endpoints[service] } : {}),
    ...(settings.credentials?.[service] ? { credentials: settings.credentials[service] } : {}),
    ...(settings.requestHandlers?.[service] ? { requestHandler: settings.requestHandlers[service] } : {}),
  });
  const instrument = settings.instrument ?? (<T>(client: T) => client);
  const made: Partial<Record<keyof Clients, unknown>> = {};
  const once = <K extends keyof Clients>(key: K, make: () => Clients[K]): Clients[K] =>
    (made[key] ??= make()) as Clients[K];

  return {
    get db() {
      return once('db', () =>
        DynamoDBDocumentClient.from(instrument(new DynamoDBClient(base('dynamodb'))), {
          marshallOptions: { removeUndefinedValues: true },
        }),
      );
    },
    get sns() {
      return once('sns', () => instrument(new SNSClient(base('sns'))));
    },
    // Kinesis defaults to HTTP/2, which only SubscribeToShard needs; PutRecord(s) over HTTP/1.1 with
    // keep-alive works everywhere, the local emulator included.
    get kinesis() {
      return once('kinesis', () =>
        instrument(new KinesisClient({ ...base('kinesis'), requestHandler: settings.requestHandlers?.kinesis ?? new NodeHttpHandler() })),
      );
    },
    get s3() {
      return once('s3', () =>
        instrument(
          new S3Client({
            ...base('s3'),
            forcePathStyle: Boolean(settings.endpoints?.s3),
            // Default checksums make presigned PUTs carry an empty-body CRC that S3 then rejects.
            requestChecksumCalculation: 'WHEN_REQUIRED',
            responseChecksumValidation: 'WHEN_REQUIRED',
          }),
        ),
      );
    },
    get connections() {
      return once('connections', () => {
        if (!settings.endpoints?.connections) throw new Error('No @connections endpoint is configured');
        return instrument(new ApiGatewayManagementApiClient(base('connections')));
      });
    },
  };
}
