/**
 * The emulator thread's body: dynalite and kinesalite listening on loopback, each request from the main
 * thread handed to its server by an `InProcessRequestHandler` and the whole response posted back, and every
 * Kinesis put told as it is stored (before its response, as over TCP). See emulator-thread.ts.
 */
import type { Server } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { InProcessRequestHandler } from './in-process-handler';
import { closeServer, listenOnLoopback } from './loopback';
import { dynamoDbServer, kinesisServer, type ThreadedService } from './emulator-servers';
import { watchKinesisPuts } from '../kinesis/put-feed';
import type { ThreadMessage, ThreadRequest, ThreadSetup } from './emulator-thread-messages';

const port = parentPort!;
const post = (message: ThreadMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

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
  port.on('message', (message: ThreadRequest | { type: 'stop' }) => {
    if (message.type === 'stop') {
      void Promise.allSettled(Object.values(servers).map(closeServer)).then(() => post({ type: 'stopped' }));
      return;
    }
    void answer(handlers[message.service], message);
  });
  const [dynamodb, kinesis] = await Promise.all([listenOnLoopback(servers.dynamodb), listenOnLoopback(servers.kinesis)]);
  post({ type: 'ready', endpoints: { dynamodb, kinesis } });
}

async function answer(handler: InProcessRequestHandler, { id, request }: ThreadRequest): Promise<void> {
  try {
    const { response } = await handler.handle(request);
    const chunks: Buffer[] = [];
    for await (const chunk of response.body) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    // A fresh buffer of its own, so it can be moved to the other thread rather than copied.
    const moved = new Uint8Array(body);
    post({ type: 'response', id, statusCode: response.statusCode, ...(response.reason ? { reason: response.reason } : {}), headers: response.headers, body: moved }, [moved.buffer]);
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    post({ type: 'failed', id, name, message, ...((error as { code?: string }).code ? { code: (error as { code: string }).code } : {}) });
  }
}

// An emulator's own errors (LevelDB's, as custom classes) lose their message crossing to the main thread:
// the text goes as a message, and the thread ends (`process.exit` in a worker ends the worker only).
process.on('uncaughtException', (error) => {
  post({ type: 'crashed', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  process.exit(1);
});

main(workerData as ThreadSetup).catch((error: unknown) => post({ type: 'start failed', message: String(error) }));
