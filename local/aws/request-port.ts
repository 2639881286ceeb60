/**
 * Signed SDK requests across threads: a client's request handler on one thread posts each request through a
 * port (a `MessagePort`, or a `Worker` and its `parentPort`), and the thread that owns the server answers it
 * with an in-process handler and posts the whole response back. The emulator thread serves DynamoDB and
 * Kinesis this way, and the main thread serves `@connections` to the function threads. Requests, and answers,
 * that one thread posts to a port before its event loop goes on cross together (`PortBatch`).
 *
 * @example
 * const { port1, port2 } = new MessageChannel();
 * servePortRequests(port1, { connections: gateway.connectionsRequestHandler });
 * const channel = new RequestChannel(port2);
 * const client = new ApiGatewayManagementApiClient({ endpoint, requestHandler: channel.handlerFor('connections') });
 */
import { Readable } from 'node:stream';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { SdkHttpRequest, SdkHttpResponse } from './in-process-handler';

/** What a request or its answer crosses: a `MessagePort`, a `Worker`, or a worker's `parentPort`. */
export interface RequestPort {
  postMessage(message: unknown, transfer?: readonly ArrayBuffer[]): void;
  on(event: 'message', listener: (message: any) => void): unknown;
}

/** A signed SDK request, its body read into memory. */
export interface PortRequest {
  readonly id: number;
  readonly service: string;
  /** The invocation that made the request, on the requesting thread: see `FairRequestQueue`. */
  readonly caller?: string;
  readonly request: {
    readonly method: string;
    readonly path: string;
    readonly query?: Record<string, string | readonly string[] | null | undefined>;
    readonly headers: Record<string, string>;
    readonly body?: string | Uint8Array;
  };
}

export type PortAnswer =
  | { readonly type: 'response'; readonly id: number; readonly statusCode: number; readonly reason?: string; readonly headers: Record<string, string>; readonly body: Uint8Array }
  | { readonly type: 'failed'; readonly id: number; readonly name: string; readonly message: string; readonly code?: string };

/** What crosses a port: the requests, or the answers, one thread posted to it in one turn of its event loop. */
export type PortRequests = { readonly type: 'requests'; readonly requests: readonly PortRequest[] };
export type PortAnswers = { readonly type: 'answers'; readonly answers: readonly PortAnswer[] };

/**
 * Messages for one port, posted together once the event loop goes on (`setImmediate`): a `postMessage` costs
 * its poster a serialization, often a wake of the other thread, and the other thread an event, whatever it
 * carries, and under load several requests (a handler's calls made at once, two threads' invocations) or
 * answers are ready in the same turn.
 */
class PortBatch<T> {
  private messages: T[] = [];
  private transfer: ArrayBuffer[] = [];

  /** `failed`: the messages of a post that threw (one that cannot be copied), to be failed one by one. */
  constructor(
    private readonly port: RequestPort,
    private readonly wrap: (messages: T[]) => unknown,
    private readonly failed: (messages: T[], error: Error) => void,
  ) {}

  post(message: T, transfer?: ArrayBuffer): void {
    if (this.messages.length === 0) setImmediate(this.flush);
    this.messages.push(message);
    if (transfer) this.transfer.push(transfer);
  }

  private readonly flush = (): void => {
    const { messages, transfer } = this;
    this.messages = [];
    this.transfer = [];
    try {
      this.port.postMessage(this.wrap(messages), transfer);
    } catch (error) {
      this.failed(messages, error instanceof Error ? error : new Error(String(error)));
    }
  };
}

/** What answers a request on the serving thread: an `InProcessRequestHandler`. */
export interface ServingHandler {
  handle(request: SdkHttpRequest): Promise<{ response: SdkHttpResponse }>;
}

/**
 * Answers the requests that come through `port` with `handlers`, by service. Other messages on the port are
 * left to its other listeners. With `queue`, requests wait their turn in it (shared by every port a thread serves).
 */
export function servePortRequests(port: RequestPort, handlers: Readonly<Record<string, ServingHandler>>, queue?: FairRequestQueue): void {
  const portKey = queue?.keyOfPort() ?? '';
  const answers = new PortBatch<PortAnswer>(
    port,
    (batch) => ({ type: 'answers', answers: batch }) satisfies PortAnswers,
    // An answer that cannot cross still ends its request on the other side, as an error.
    (batch, { name, message }) => port.postMessage({ type: 'answers', answers: batch.map(({ id }) => ({ type: 'failed', id, name, message })) } satisfies PortAnswers),
  );
  port.on('message', (message: { type?: string }) => {
    if (message?.type !== 'requests') return;
    for (const request of (message as PortRequests).requests) {
      if (!queue) void answer(answers, handlers, request);
      else queue.run(`${portKey}/${request.caller ?? ''}`, () => answer(answers, handlers, request));
    }
  });
}

/**
 * Ports this thread serves with `handlers`, one per thread that asks: `open()` answers the end to hand to that
 * thread's `RequestChannel`. A served port holds the event loop open, so `close()` closes them all at stop.
 */
export class ServedPorts {
  private readonly ports: MessagePort[] = [];

  constructor(
    private readonly handlers: Readonly<Record<string, ServingHandler>>,
    private readonly queue?: FairRequestQueue,
  ) {}

  open(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    servePortRequests(port1, this.handlers, this.queue);
    this.ports.push(port1);
    return port2;
  }

  close(): void {
    for (const port of this.ports.splice(0)) port.close();
  }
}

/**
 * Requests to one emulator thread, taken in turn by caller rather than in order of arrival. On AWS a
 * DynamoDB request of one invocation never waits for another's; here one thread answers them all, and a
 * group fan-out puts 32 queries at a time in front of a 1:1 message's dozen requests, each of which then
 * waits behind them all. Each caller (a port, and the invocation that made the request on it) has a queue
 * of its own; at most `concurrency` requests are with the servers at once, the next taken from the caller
 * after the last one served. The emulators work on one thread, so more at once would only interleave them (a
 * request would wait for all those before it), while two keep the thread busy across their pauses.
 *
 * @example
 * const queue = new FairRequestQueue();
 * servePortRequests(port, handlers, queue);
 */
export class FairRequestQueue {
  /** Callers with requests waiting, in turn: a Map keeps insertion order, and a served caller goes last. */
  private readonly waiting = new Map<string, (() => Promise<void>)[]>();
  private running = 0;
  private ports = 0;

  constructor(private readonly concurrency = 2) {}

  /** A key of its own for each port served. */
  keyOfPort(): string {
    return String(++this.ports);
  }

  run(caller: string, task: () => Promise<void>): void {
    const queue = this.waiting.get(caller);
    if (queue) queue.push(task);
    else this.waiting.set(caller, [task]);
    this.next();
  }

  private next(): void {
    while (this.running < this.concurrency && this.waiting.size > 0) {
      const [caller, queue] = this.waiting.entries().next().value as [string, (() => Promise<void>)[]];
      const task = queue.shift()!;
      this.waiting.delete(caller);
      if (queue.length > 0) this.waiting.set(caller, queue);
      this.running++;
      void task().finally(() => {
        this.running--;
        this.next();
      });
    }
  }
}

async function answer(answers: PortBatch<PortAnswer>, handlers: Readonly<Record<string, ServingHandler>>, { id, service, request }: PortRequest): Promise<void> {
  try {
    const handler = handlers[service];
    if (!handler) throw new Error(`No ${service} server answers on this port`);
    const { response } = await handler.handle(request);
    const body = await bytesOf(response.body);
    const reply: PortAnswer = { type: 'response', id, statusCode: response.statusCode, ...(response.reason ? { reason: response.reason } : {}), headers: response.headers, body };
    answers.post(reply, body.buffer as ArrayBuffer);
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    const code = (error as { code?: unknown }).code;
    answers.post({ type: 'failed', id, name, message, ...(typeof code === 'string' ? { code } : {}) });
  }
}

/**
 * A body read whole into a buffer of its own, which can be moved to the other thread rather than
 * copied (a `Buffer.concat` of small chunks is a slice of Node's shared pool). Read with `data` events: an
 * async iterator costs a promise per chunk, and this runs for every request the thread serves.
 */
function bytesOf(body: Readable): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let length = 0;
    body.on('data', (chunk: Uint8Array | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      chunks.push(bytes);
      length += bytes.length;
    });
    body.once('error', reject);
    body.once('end', () => {
      const bytes = new Uint8Array(length);
      let offset = 0;
      for (const chunk of chunks) {
        bytes.set(chunk, offset);
        offset += chunk.length;
      }
      resolve(bytes);
    });
  });
}

interface Pending {
  readonly resolve: (answer: { response: SdkHttpResponse }) => void;
  readonly reject: (error: Error) => void;
}

/** The requesting end of a port: request handlers for SDK clients, by service. */
export class RequestChannel {
  private readonly pending = new Map<number, Pending>();
  private readonly requests: PortBatch<PortRequest>;
  private nextId = 0;

  /** `callerOf`: who is asking, on this thread (the invocation), for the serving thread's `FairRequestQueue`. */
  constructor(
    port: RequestPort,
    private readonly callerOf: () => string | undefined = () => undefined,
  ) {
    this.requests = new PortBatch(
      port,
      (batch) => ({ type: 'requests', requests: batch }) satisfies PortRequests,
      (batch, error) => {
        for (const { id } of batch) this.settle({ type: 'failed', id, name: error.name, message: error.message });
      },
    );
    port.on('message', (message: { type?: string }) => {
      if (message?.type === 'answers') for (const answer of (message as PortAnswers).answers) this.settle(answer);
    });
  }

  /** For `createClients({ requestHandlers })`. */
  handlerFor(service: string): PortRequestHandler {
    return new PortRequestHandler(service, (request) => this.send(service, request));
  }

  /** Fails every request still waiting: the other end has gone. */
  failAll(error: Error): void {
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }

  private send(service: string, request: PortRequest['request']): Promise<{ response: SdkHttpResponse }> {
    return new Promise((resolve, reject) => {
      const id = ++this.nextId;
      this.pending.set(id, { resolve, reject });
      const caller = this.callerOf();
      // A body of bytes is a copy of its own (see bodyOf), moved rather than copied again.
      const transfer = request.body instanceof Uint8Array ? (request.body.buffer as ArrayBuffer) : undefined;
      this.requests.post({ id, service, ...(caller === undefined ? {} : { caller }), request }, transfer);
    });
  }

  private settle(message: PortAnswer): void {
    const waiting = this.pending.get(message.id);
    this.pending.delete(message.id);
    if (message.type === 'failed') {
      waiting?.reject(Object.assign(new Error(message.message), { name: message.name, ...(message.code ? { code: message.code } : {}) }));
      return;
    }
    // A Readable alone: the SDK only reads it, and a PassThrough would build a writable side as well.
    const body = new Readable({ read() {} });
    body.push(Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength));
    body.push(null);
    waiting?.resolve({ response: { statusCode: message.statusCode, ...(message.reason ? { reason: message.reason } : {}), headers: message.headers, body } });
  }
}

interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener?(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener?(type: 'abort', listener: () => void): void;
}

/** smithy's `HttpHandler` for one service served on another thread. */
export class PortRequestHandler {
  /** Read by clients that would otherwise pick HTTP/2 (Kinesis): the emulators speak HTTP/1.1. */
  readonly metadata = { handlerProtocol: 'http/1.1' };

  constructor(
    readonly service: string,
    private readonly send: (request: PortRequest['request']) => Promise<{ response: SdkHttpResponse }>,
  ) {}

  async handle(request: SdkHttpRequest, options: { abortSignal?: AbortSignalLike } = {}): Promise<{ response: SdkHttpResponse }> {
    const { abortSignal } = options;
    const aborted = () => Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    if (abortSignal?.aborted) throw aborted();
    const body = await bodyOf(request.body);
    const answer = this.send({
      method: request.method,
      path: request.path,
      ...(request.query ? { query: { ...request.query } as PortRequest['request']['query'] } : {}),
      headers: { ...request.headers },
      ...(body === undefined ? {} : { body }),
    });
    if (!abortSignal?.addEventListener) return answer;
    // The other thread finishes the request regardless; the caller stops waiting for it, as with a dropped socket.
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

  /** Called by `client.destroy()`; the port belongs to whoever made it. */
  destroy(): void {}
}

/**
 * The body as the other thread can receive it: JSON text as it is, bytes copied into a buffer of their own
 * (which the caller moves to the thread), a stream read to its end. The SDK's bytes are often a view of
 * Node's 8 KB buffer pool, which postMessage would otherwise copy whole.
 */
async function bodyOf(body: unknown): Promise<string | Uint8Array | undefined> {
  if (body === undefined || body === null || typeof body === 'string') return body ?? undefined;
  if (ArrayBuffer.isView(body)) return new Uint8Array(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
  if (body instanceof Readable) return bytesOf(body);
  return new Uint8Array(new Uint8Array(body as ArrayBuffer));
}
