/**
 * DynamoDB and Kinesis emulated on a thread of their own, so that on a machine with two cores the emulators'
 * work (about a third of the local stack's CPU per message) runs beside the handlers and the gateways rather
 * than between them. The SDK clients on the main thread still run their whole middleware stack (endpoint,
 * signing, retries, (de)serialization); their request handler posts each request to the thread, which
 * gives it to the emulator's server as `InProcessRequestHandler` does and posts the whole response back. The
 * emulators also listen on loopback in the thread, for any client that comes over HTTP, and another thread
 * (a function thread, local/function-threads/) may have a port of its own to them (`connect`).
 *
 * @example
 * const thread = await startEmulatorThread({});
 * const db = new DynamoDBClient({ region, endpoint: thread.endpoints.dynamodb, requestHandler: thread.requestHandlers.dynamodb });
 * await thread.stop();
 */
import path from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { KinesisPut, KinesisPutFeed } from '../kinesis/put-feed';
import type { ThreadedService } from './emulator-servers';
import type { ThreadConnect, ThreadMessage, ThreadSetup } from './emulator-thread-messages';
import { RequestChannel, type PortRequestHandler } from './request-port';

export interface EmulatorThread {
  readonly endpoints: Readonly<Record<ThreadedService, string>>;
  /** For `createClients({ requestHandlers })`: each request goes to the thread, not over loopback TCP. */
  readonly requestHandlers: Readonly<Record<ThreadedService, PortRequestHandler>>;
  /** Every record stored in Kinesis, told before the put's response reaches its client. */
  readonly kinesisPuts: KinesisPutFeed;
  /** A port of its own to the thread, for another thread's `RequestChannel`: its requests skip this thread. */
  connect(): MessagePort;
  stop(): Promise<void>;
}

/** Starts the thread and resolves once both emulators listen. */
export function startEmulatorThread(setup: ThreadSetup): Promise<EmulatorThread> {
  const worker = new Worker(path.join(__dirname, 'emulator-thread-entry.cjs'), { workerData: setup });
  const channel = new RequestChannel(worker);
  const putListeners = new Set<(put: KinesisPut) => void>();
  let stopped: (() => void) | undefined;

  return new Promise((resolve, reject) => {
    let started = false;
    const crash = (error: Error) => {
      channel.failAll(error);
      if (!started) return reject(error);
      // An emulator's uncaught error (a LevelDB directory another process holds, found when the store opens
      // after the start) ends this process as it would with the emulators on the main thread.
      process.nextTick(() => {
        throw error;
      });
    };
    worker.on('error', crash);
    worker.on('exit', () => {
      channel.failAll(new Error('The emulator thread has stopped'));
      stopped?.();
    });
    worker.on('message', (message: ThreadMessage | { type: 'answers' }) => {
      switch (message.type) {
        case 'put':
          for (const listener of putListeners) listener({ streamName: message.streamName, hashKeys: message.hashKeys });
          return;
        case 'ready':
          started = true;
          resolve({
            endpoints: message.endpoints,
            requestHandlers: { dynamodb: channel.handlerFor('dynamodb'), kinesis: channel.handlerFor('kinesis') },
            kinesisPuts: {
              subscribe(listener) {
                putListeners.add(listener);
                return () => putListeners.delete(listener);
              },
            },
            connect() {
              const { port1, port2 } = new MessageChannel();
              worker.postMessage({ type: 'connect', port: port2 } satisfies ThreadConnect, [port2]);
              return port1;
            },
            stop: () =>
              new Promise<void>((done) => {
                stopped = done;
                worker.postMessage({ type: 'stop' });
              }),
          });
          return;
        case 'crashed':
          crash(new Error(`The emulator thread stopped on an error: ${message.message}`));
          return;
        case 'start failed':
          reject(new Error(`The emulator thread failed to start: ${message.message}`));
          void worker.terminate();
          return;
        case 'stopped':
          // Answers to requests the caller gave up on may come before it, so it is handled here, not by a
          // one-off listener that the first of them would use up (a stop right after a start then hung).
          void worker.terminate();
          return;
      }
    });
  });
}
