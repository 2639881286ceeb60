/**
 * The AWS services Parley uses, emulated on this machine and reached through the real SDK clients:
 * dynalite (DynamoDB), kinesalite (Kinesis), s3rver (S3) and our own SNS endpoint. In memory by default;
 * with a data directory, DynamoDB, Kinesis and S3 keep their data across restarts.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AwsCredentialIdentity } from '@smithy/types';
import S3rver from 's3rver';
import type { Service } from '../lambdas/runtime/clients';
import { InProcessRequestHandler } from './aws/in-process-handler';
import { closeServer, listenOnLoopback, LOOPBACK, loopbackUrl } from './aws/loopback';
import { dynamoDbServer, kinesisServer } from './aws/emulator-servers';
import { startEmulatorThread } from './aws/emulator-thread';
import { FairRequestQueue, ServedPorts, type PortRequestHandler } from './aws/request-port';
import type { MessagePort } from 'node:worker_threads';
import { watchKinesisPuts, type KinesisPutFeed } from './kinesis/put-feed';
import { startSnsEndpoint, type SnsEndpoint } from './sns-endpoint';
import { startPresignedUrlGate } from './s3/presigned-url-gate';

/** The services emulated here; `connections` belongs to the local WebSocket gateway. */
export type EmulatedService = Exclude<Service, 'connections'>;

export interface AwsEmulatorsOptions {
  /** Keep DynamoDB, Kinesis and S3 data in `dynamodb/`, `kinesis/` and `s3/` under this folder. @default in memory */
  readonly dataDir?: string;
  /** Where the SNS endpoint shows the SMS and pushes it would send. @default console.log */
  readonly log?: (line: string) => void;
  /** The clock presigned S3 URLs are checked against (expiry). @default Date.now */
  readonly now?: () => number;
  /**
   * Run DynamoDB and Kinesis on a thread of their own (`local/aws/emulator-thread.ts`), so their work uses
   * the second core; their request handlers then post each request to that thread. @default false
   */
  readonly emulatorThread?: boolean;
}

/** Shaped for `createClients({ region, endpoints, credentials })`. */
export interface AwsEmulators {
  readonly endpoints: Readonly<Record<EmulatedService, string>>;
  readonly credentials: Readonly<Record<EmulatedService, AwsCredentialIdentity>>;
  /**
   * For `createClients({ requestHandlers })`: SDK request handlers that give requests to the emulators in
   * this process (on this thread, or on the emulator thread), skipping loopback TCP and Node's HTTP client and
   * server. DynamoDB and Kinesis only: S3 (s3rver) and SNS stay on loopback. The endpoints keep listening either way.
   */
  readonly requestHandlers: Readonly<Partial<Record<EmulatedService, InProcessRequestHandler | PortRequestHandler>>>;
  /** The SNS endpoint, with its outbox of SMS and pushes. */
  readonly sns: SnsEndpoint;
  /** Every record stored in Kinesis, as it is stored: lets an event source fetch it at once. */
  readonly kinesisPuts: KinesisPutFeed;
  /**
   * A port through which another thread's `RequestChannel` (local/aws/request-port.ts) reaches DynamoDB and
   * Kinesis in process: straight to the emulator thread when they run there, else answered on this thread.
   */
  connect(): MessagePort;
  stop(): Promise<void>;
}

interface RunningEmulator {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** The emulators check no signatures; any fixed pair will do. */
const LOCAL_CREDENTIALS: AwsCredentialIdentity = { accessKeyId: 'local', secretAccessKey: 'local' };
/** s3rver knows a single account and refuses other access key ids. */
const S3RVER_CREDENTIALS: AwsCredentialIdentity = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * Starts all four emulators on 127.0.0.1, each on a free port.
 *
 * @example
 * const emulators = await startAwsEmulators({ dataDir: '.parley' });
 * const { endpoints, credentials } = emulators;
 * const clients = createClients({ region: 'us-east-1', endpoints, credentials });
 * await emulators.stop();
 */
export async function startAwsEmulators(options: AwsEmulatorsOptions = {}): Promise<AwsEmulators> {
  const dataPath = (service: string) => (options.dataDir ? path.join(options.dataDir, service) : undefined);
  const [database, s3, sns] = await startAll([
    options.emulatorThread ? startDatabasesOnThread(dataPath) : startDatabases(dataPath),
    startS3(dataPath('s3'), options.now),
    startSns(options.log),
  ] as const);
  return {
    endpoints: { ...database.endpoints, s3: s3.endpoint, sns: sns.endpoint },
    // Copies: the SDK marks the credentials it is given (`$source`), which must not leak into the next start.
    credentials: {
      dynamodb: { ...LOCAL_CREDENTIALS },
      kinesis: { ...LOCAL_CREDENTIALS },
      s3: { ...S3RVER_CREDENTIALS },
      sns: { ...LOCAL_CREDENTIALS },
    },
    requestHandlers: database.requestHandlers,
    sns: sns.handle,
    kinesisPuts: database.kinesisPuts,
    connect: () => database.connect(),
    stop: () => stopAll([database, s3, sns]),
  };
}

/** DynamoDB and Kinesis: where they listen, how requests reach them in process, and the puts on Kinesis. */
interface Databases extends RunningEmulator {
  readonly endpoints: Readonly<Record<'dynamodb' | 'kinesis', string>>;
  readonly requestHandlers: AwsEmulators['requestHandlers'];
  readonly kinesisPuts: KinesisPutFeed;
  connect(): MessagePort;
}

/** dynalite and kinesalite on this thread. */
async function startDatabases(dataPath: (service: string) => string | undefined): Promise<Databases> {
  const dynamodb = dynamoDbServer(await ensureDirOf(dataPath('dynamodb')));
  const kinesis = kinesisServer(await ensureDirOf(dataPath('kinesis')));
  // The feed listens to the server's `request` event, which the in-process handler emits too.
  const kinesisPuts = watchKinesisPuts(kinesis);
  const [dynamodbEndpoint, kinesisEndpoint] = await Promise.all([listenOnLoopback(dynamodb), listenOnLoopback(kinesis)]);
  const requestHandlers = { dynamodb: new InProcessRequestHandler(dynamodb), kinesis: new InProcessRequestHandler(kinesis) };
  // Requests through the ports served here are taken in turn by invocation (this thread's own go straight to the servers).
  const served = new ServedPorts(requestHandlers, new FairRequestQueue());
  return {
    endpoint: dynamodbEndpoint,
    endpoints: { dynamodb: dynamodbEndpoint, kinesis: kinesisEndpoint },
    requestHandlers,
    kinesisPuts,
    connect: () => served.open(),
    stop: async () => {
      served.close();
      await Promise.all([closeServer(dynamodb), closeServer(kinesis)]);
    },
  };
}

/** dynalite and kinesalite on the emulator thread. */
async function startDatabasesOnThread(dataPath: (service: string) => string | undefined): Promise<Databases> {
  const [dynamodb, kinesis] = [await ensureDirOf(dataPath('dynamodb')), await ensureDirOf(dataPath('kinesis'))];
  const thread = await startEmulatorThread({ directories: { ...(dynamodb ? { dynamodb } : {}), ...(kinesis ? { kinesis } : {}) } });
  return { endpoint: thread.endpoints.dynamodb, ...thread };
}

/**
 * s3rver keeps objects as files only: without a data directory they go to a temporary one, removed on stop.
 * It checks no signature, expiry or checksum: clients reach it through a gate that checks presigned URLs as S3 does.
 */
async function startS3(directory: string | undefined, now?: () => number): Promise<RunningEmulator> {
  const folder = directory ? await ensureDir(directory) : await mkdtemp(path.join(tmpdir(), 'parley-s3-'));
  const removeTemporary = () => (directory ? Promise.resolve() : rm(folder, { recursive: true, force: true }));
  try {
    const server = new S3rver({ address: LOOPBACK, port: 0, silent: true, directory: folder });
    const { port } = await server.run();
    const secrets = new Map([[S3RVER_CREDENTIALS.accessKeyId, S3RVER_CREDENTIALS.secretAccessKey]]);
    const gate = await startPresignedUrlGate({ upstream: loopbackUrl(port), secrets, storeDirectory: folder, ...(now ? { now } : {}) }).catch(async (error: unknown) => {
      await server.close();
      throw error;
    });
    return {
      endpoint: gate.endpoint,
      stop: async () => {
        await gate.close();
        await server.close();
        await removeTemporary();
      },
    };
  } catch (error) {
    await removeTemporary();
    throw error;
  }
}

async function startSns(log: ((line: string) => void) | undefined): Promise<RunningEmulator & { handle: SnsEndpoint }> {
  const handle = await startSnsEndpoint(log ? { log } : {});
  return { endpoint: handle.endpoint, stop: () => handle.close(), handle };
}

async function ensureDir(directory: string): Promise<string> {
  await mkdir(directory, { recursive: true });
  return directory;
}

async function ensureDirOf(directory: string | undefined): Promise<string | undefined> {
  return directory ? ensureDir(directory) : undefined;
}

/** Waits for every start; if one fails, stops those that started, so a failed start leaks no server. */
async function startAll<const T extends readonly Promise<RunningEmulator>[]>(starts: T) {
  const settled = await Promise.allSettled(starts);
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure) {
    await stopAll(settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])));
    throw failure.reason;
  }
  return Promise.all(starts);
}

/** Stops every emulator even if one fails to stop, then reports the first failure. */
async function stopAll(emulators: readonly RunningEmulator[]): Promise<void> {
  const settled = await Promise.allSettled(emulators.map((emulator) => emulator.stop()));
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
}
