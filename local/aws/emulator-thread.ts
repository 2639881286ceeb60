/**
 * DynamoDB and Kinesis emulated on a thread of their own, so that on a machine with two cores the emulators'
 * work (about a third of the local stack's CPU per message) runs beside the handlers and the gateways rather
 * than between them. The SDK clients on the main thread still run their whole middleware stack (endpoint,
 * signing, retries, (de)serialization); their request handler posts each signed request to the thread, which
 * gives it to the emulator's server as `InProcessRequestHandler` does and posts the whole response back. The
 * emulators also listen on loopback in the thread, for any client that comes over HTTP.
 *
 * @example
 * const thread = await startEmulatorThread({});
 * const db = new DynamoDBClient({ region, endpoint: thread.endpoints.dynamodb, requestHandler: thread.requestHandlers.dynamodb });
 * await thread.stop();
 */
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { KinesisPut, KinesisPutFeed } from '../kinesis/put-feed';
import type { SdkHttpRequest, SdkHttpResponse } from './in-process-handler';
import type { ThreadedService } from './emulator-servers';
import type { ThreadMessage, ThreadRequest, ThreadSetup } from './emulator-thread-messages';

export interface EmulatorThread {
  readonly endpoints: Readonly<Record<ThreadedService, string>>;
  /** For `createClients({ requestHandlers })`: each request goes to the thread, not over loopback TCP. */
  readonly requestHandlers: Readonly<Record<ThreadedService, ThreadRequestHandler>>;
  /** Every record stored in Kinesis, told before the put's response reaches its client. */
  readonly kinesisPuts: KinesisPutFeed;
  stop(): Promise<void>;
}

interface Pending {
  readonly resolve: (answer: { response: SdkHttpResponse }) => void;
  readonly reject: (error: Error) => void;
}

/** Starts the thread and resolves once both emulators listen. */
export function startEmulatorThread(setup: ThreadSetup): Promise<EmulatorThread> {
  const worker = new Worker(path.join(__dirname, 'emulator-thread-entry.cjs'), { workerData: setup });
  const pending = new Map<number, Pending>();
  const putListeners = new Set<(put: KinesisPut) => void>();
  let stopped: (() => void) | undefined;
  let nextId = 0;

  const send = (service: ThreadedService, request: ThreadRequest['request']) =>
    new Promise<{ response: SdkHttpResponse }>((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      // A body of bytes is a copy of its own (see bodyOf), moved rather than copied again.
      const transfer = request.body instanceof Uint8Array ? [request.body.buffer as ArrayBuffer] : [];
      worker.postMessage({ type: 'request', id, service, request } satisfies ThreadRequest, transfer);
    });
  const failAll = (error: Error) => {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };

  return new Promise((resolve, reject) => {
    let started = false;
    const crash = (error: Error) => {
      failAll(error);
      if (!started) return reject(error);
      // An emulator's uncaught error (a LevelDB directory another process holds, found when the store opens
      // after the start) ends this process as it would with the emulators on the main thread.
      process.nextTick(() => {
        throw error;
      });
    };
    worker.on('error', crash);
    worker.on('exit', () => {
      failAll(new Error('The emulator thread has stopped'));
      stopped?.();
    });
    worker.on('message', (message: ThreadMessage) => {
      switch (message.type) {
        case 'response': {
          const waiting = pending.get(message.id);
          pending.delete(message.id);
          const body = new PassThrough();
          body.end(Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength));
          waiting?.resolve({ response: { statusCode: message.statusCode, ...(message.reason ? { reason: message.reason } : {}), headers: message.headers, body } });
          return;
        }
        case 'failed': {
          const waiting = pending.get(message.id);
          pending.delete(message.id);
          waiting?.reject(Object.assign(new Error(message.message), { name: message.name, ...(message.code ? { code: message.code } : {}) }));
          return;
        }
        case 'put':
          for (const listener of putListeners) listener({ streamName: message.streamName, hashKeys: message.hashKeys });
          return;
        case 'ready':
          started = true;
          resolve({
            endpoints: message.endpoints,
            requestHandlers: { dynamodb: new ThreadRequestHandler('dynamodb', send), kinesis: new ThreadRequestHandler('kinesis', send) },
            kinesisPuts: {
              subscribe(listener) {
                putListeners.add(listener);
                return () => putListeners.delete(listener);
              },
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

interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener?(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener?(type: 'abort', listener: () => void): void;
}

/** smithy's `HttpHandler` for one service of the emulator thread. */
export class ThreadRequestHandler {
  /** Read by clients that would otherwise pick HTTP/2 (Kinesis): the emulators speak HTTP/1.1. */
  readonly metadata = { handlerProtocol: 'http/1.1' };

  constructor(
    private readonly service: ThreadedService,
    private readonly send: (service: ThreadedService, request: ThreadRequest['request']) => Promise<{ response: SdkHttpResponse }>,
  ) {}

  async handle(request: SdkHttpRequest, options: { abortSignal?: AbortSignalLike } = {}): Promise<{ response: SdkHttpResponse }> {
    const { abortSignal } = options;
    const aborted = () => Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    if (abortSignal?.aborted) throw aborted();
    const body = await bodyOf(request.body);
    const answer = this.send(this.service, {
      method: request.method,
      path: request.path,
      ...(request.query ? { query: { ...request.query } as ThreadRequest['request']['query'] } : {}),
      headers: { ...request.headers },
      ...(body === undefined ? {} : { body }),
    });
    if (!abortSignal?.addEventListener) return answer;
    // The thread finishes the request regardless; the caller stops waiting for it, as with a dropped socket.
    let onAbort = () => undefined as void;
    const abandoned = new Promise<never>((_, reject) => {
      onAbort = () => reject(aborted());
      abortSignal.addEventListener!('abort', onAbort, { once: true });
    });
    // A shard reader passes one signal with every read: its listeners must not pile up.
    return Promise.race([answer, abandoned]).finally(() => abortSignal.removeEventListener?.('abort', onAbort));
  }

  /** Part of smithy's `HttpHandler`; there is nothing to configure. */
  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  /** Called by `client.destroy()`; the thread belongs to whoever started it. */
  destroy(): void {}
}

/**
 * The body as the thread can receive it: JSON text as it is, bytes copied into a buffer of their own
 * (which the caller moves to the thread), a stream read to its end. The SDK's bytes are often a view of
 * Node's 8 KB buffer pool, which postMessage would otherwise copy whole.
 */
async function bodyOf(body: unknown): Promise<string | Uint8Array | undefined> {
  if (body === undefined || body === null || typeof body === 'string') return body ?? undefined;
  if (ArrayBuffer.isView(body)) return new Uint8Array(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
  if (body instanceof Readable) {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
    return new Uint8Array(Buffer.concat(chunks));
  }
  return new Uint8Array(new Uint8Array(body as ArrayBuffer));
}
