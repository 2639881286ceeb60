/**
 * The emulator thread's body: dynalite and kinesalite listening on loopback, each request from another thread
 * handed to its server by an `InProcessRequestHandler` and the whole response posted back (request-port.ts),
 * and every Kinesis put told as it is stored (before its response, as over TCP). See emulator-thread.ts.
 */
import type { Server } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { InProcessRequestHandler } from './in-process-handler';
import { closeServer, listenOnLoopback } from './loopback';
import { dynamoDbServer, kinesisServer, type ThreadedService } from './emulator-servers';
import { FairRequestQueue, servePortRequests } from './request-port';
import { watchKinesisPuts } from '../kinesis/put-feed';
import type { ThreadConnect, ThreadMessage, ThreadSetup } from './emulator-thread-messages';

const port = parentPort!;

const post = (message: ThreadMessage) => port.postMessage(message);

async function main({ directories }: ThreadSetup): Promise<void> {
  const servers: Record<ThreadedService, Server> = {
    dynamodb: dynamoDbServer(directories.dynamodb),
    kinesis: kinesisServer(directories.kinesis),
  };
  const handlers = {
    dynamodb: new InProcessRequestHandler(servers.dynamodb),
    kinesis: new InProcessRequestHandler(servers.kinesis),
  };
  watchKinesisPuts(servers.kinesis).subscribe(({ streamName, hashKeys }) => post({ type: 'put', streamName, hashKeys: [...hashKeys] }));
  // The main thread's requests and each function thread's, in turn (see FairRequestQueue).
  const queue = new FairRequestQueue();
  servePortRequests(port, handlers, queue);
  port.on('message', (message: ThreadConnect | { type: 'stop' } | { type: 'requests' }) => {
    if (message.type === 'connect') servePortRequests(message.port, handlers, queue);
    if (message.type === 'stop') void Promise.allSettled(Object.values(servers).map(closeServer)).then(() => post({ type: 'stopped' }));
  });
  const [dynamodb, kinesis] = await Promise.all([listenOnLoopback(servers.dynamodb), listenOnLoopback(servers.kinesis)]);
  post({ type: 'ready', endpoints: { dynamodb, kinesis } });
}

// An emulator's own errors (LevelDB's, as custom classes) lose their message crossing to the main thread:
// the text goes as a message, and the thread ends (`process.exit` in a worker ends the worker only).
process.on('uncaughtException', (error) => {
  post({ type: 'crashed', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  process.exit(1);
});

main(workerData as ThreadSetup).catch((error: unknown) => post({ type: 'start failed', message: String(error) }));
