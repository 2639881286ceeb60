/**
 * An AWS SDK request handler that gives each request to an emulator's HTTP server in this process instead
 * of sending it over loopback TCP. The SDK's middleware runs as it does on AWS (endpoint, SigV4 signing,
 * retries, (de)serialization); only the last step changes: where `NodeHttpHandler` would write the signed
 * request to a socket, this emits the server's `request` event with a request and response built in memory.
 * Every `request` listener of the server sees it, as over TCP: the Kinesis put feed
 * (`local/kinesis/put-feed.ts`) among them.
 *
 * Why: through loopback, Node's HTTP client, TCP and Node's HTTP server cost about half the CPU of each
 * request to dynalite or kinesalite (see the README's local runtime section).
 *
 * The request and response are faithful to what emulators built on `http.createServer` read and write:
 * method, `url` (path and query), lower-cased `headers` and `rawHeaders`, the body as a stream; the status,
 * headers (`setHeader`, `writeHead`, a `date` and, for `end(body)`, a `content-length` as Node adds them) and
 * the body, streamed back to the SDK as a `Readable` as soon as the headers are sent. Not emulated: sockets,
 * `Expect: 100-continue`, trailers, HTTP upgrades; no server that needs them (s3rver, the WebSocket gateway)
 * is reached this way.
 */
import { STATUS_CODES } from 'node:http';
import { PassThrough, Readable, Writable } from 'node:stream';

/**
 * The part of smithy's `HttpRequest` (`@smithy/types`) the handler reads; typed here because the SDK's
 * own types package is not a dependency of this project.
 */
export interface SdkHttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: Readonly<Record<string, string | readonly string[] | null | undefined>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/** smithy's `HttpResponse`: what the SDK's deserializers read. */
export interface SdkHttpResponse {
  readonly statusCode: number;
  readonly reason?: string;
  readonly headers: Record<string, string>;
  readonly body: Readable;
}

interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener?(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener?(type: 'abort', listener: () => void): void;
}

/** The server whose `request` listeners answer: an `http.Server`, listening or not. */
export interface RequestListenerHost {
  emit(event: 'request', request: unknown, response: unknown): boolean;
}

/**
 * smithy's `HttpHandler` for one in-process server. Stateless: one instance can serve any number of clients.
 *
 * @example
 * const server = dynalite();
 * const db = new DynamoDBClient({ region, endpoint: 'http://127.0.0.1:4567', requestHandler: new InProcessRequestHandler(server) });
 */
export class InProcessRequestHandler {
  /** Read by clients that would otherwise pick HTTP/2 (Kinesis): the emulators speak HTTP/1.1. */
  readonly metadata = { handlerProtocol: 'http/1.1' };

  constructor(private readonly server: RequestListenerHost) {}

  handle(request: SdkHttpRequest, options: { abortSignal?: AbortSignalLike } = {}): Promise<{ response: SdkHttpResponse }> {
    const { abortSignal } = options;
    if (abortSignal?.aborted) return Promise.reject(abortError(abortSignal));
    return new Promise((resolve, reject) => {
      const incoming = new InProcessIncomingMessage(request);
      const outgoing = new InProcessServerResponse((response) => resolve({ response }), reject);
      if (abortSignal) {
        const onAbort = () => {
          const error = abortError(abortSignal);
          incoming.destroy();
          outgoing.abort(error);
        };
        abortSignal.addEventListener?.('abort', onAbort, { once: true });
        outgoing.once('close', () => abortSignal.removeEventListener?.('abort', onAbort));
      }
      try {
        if (!this.server.emit('request', incoming, outgoing)) throw new Error('The server has no request listener');
      } catch (error) {
        // Over TCP a throwing listener would take the process down; here the request fails instead.
        outgoing.abort(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      writeBody(incoming, request.body);
    });
  }

  /** Part of smithy's `HttpHandler`; there is nothing to configure. */
  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  /** Called by `client.destroy()`; the server belongs to whoever started it. */
  destroy(): void {}
}

/** What `http.IncomingMessage` offers a request listener, over a body written to it in memory. */
class InProcessIncomingMessage extends PassThrough {
  readonly httpVersion = '1.1';
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string> = {};
  readonly rawHeaders: string[] = [];
  readonly trailers: Record<string, string> = {};
  readonly rawTrailers: string[] = [];
  /** Enough of a socket for a listener that asks who is calling: this process, on loopback. */
  readonly socket = { remoteAddress: '127.0.0.1', remoteFamily: 'IPv4', localAddress: '127.0.0.1', encrypted: false };
  readonly connection = this.socket;

  constructor(request: SdkHttpRequest) {
    super();
    this.method = request.method;
    const query = request.query ? buildQueryString(request.query) : '';
    this.url = query ? `${request.path}?${query}` : request.path;
    for (const [name, value] of Object.entries(request.headers)) {
      this.headers[name.toLowerCase()] = value;
      this.rawHeaders.push(name, value);
    }
  }
}

/** What `http.ServerResponse` offers a request listener; the SDK gets the response once its headers are sent. */
class InProcessServerResponse extends Writable {
  statusCode = 200;
  statusMessage = '';
  sendDate = true;
  headersSent = false;
  private readonly headerValues = new Map<string, { name: string; value: number | string | readonly string[] }>();
  private body: PassThrough | undefined;
  private settled = false;

  constructor(
    private readonly onResponse: (response: SdkHttpResponse) => void,
    private readonly onError: (error: Error) => void,
  ) {
    super();
    // Over TCP the server's `finish` (the last byte handed to the socket) comes before the client reads the
    // end of the body: listeners of `finish`, like the Kinesis put feed, run before the SDK's call returns.
    this.once('finish', () => process.nextTick(() => this.body?.end()));
  }

  setHeader(name: string, value: number | string | readonly string[]): this {
    if (this.headersSent) throw Object.assign(new Error('Cannot set headers after they are sent to the client'), { code: 'ERR_HTTP_HEADERS_SENT' });
    this.headerValues.set(name.toLowerCase(), { name, value });
    return this;
  }

  getHeader(name: string): number | string | readonly string[] | undefined {
    return this.headerValues.get(name.toLowerCase())?.value;
  }

  getHeaders(): Record<string, number | string | readonly string[]> {
    return Object.fromEntries([...this.headerValues].map(([name, { value }]) => [name, value]));
  }

  getHeaderNames(): string[] {
    return [...this.headerValues.keys()];
  }

  hasHeader(name: string): boolean {
    return this.headerValues.has(name.toLowerCase());
  }

  removeHeader(name: string): void {
    if (this.headersSent) throw Object.assign(new Error('Cannot remove headers after they are sent to the client'), { code: 'ERR_HTTP_HEADERS_SENT' });
    this.headerValues.delete(name.toLowerCase());
  }

  writeHead(statusCode: number, reasonOrHeaders?: string | Record<string, number | string | readonly string[]>, headers?: Record<string, number | string | readonly string[]>): this {
    const reason = typeof reasonOrHeaders === 'string' ? reasonOrHeaders : undefined;
    const given = typeof reasonOrHeaders === 'object' ? reasonOrHeaders : headers;
    this.statusCode = statusCode;
    if (reason !== undefined) this.statusMessage = reason;
    for (const [name, value] of Object.entries(given ?? {})) this.setHeader(name, value);
    this.sendHeaders();
    return this;
  }

  flushHeaders(): void {
    this.sendHeaders();
  }

  override write(chunk: any, encoding?: any, callback?: any): boolean {
    this.sendHeaders();
    return super.write(chunk, encoding, callback);
  }

  override end(chunk?: any, encoding?: any, callback?: any): this {
    // As Node does: a whole body given to `end` before the headers went out gets its length stated.
    if (!this.headersSent && chunk != null && typeof chunk !== 'function' && !this.hasHeader('content-length') && !this.hasHeader('transfer-encoding')) {
      this.setHeader('content-length', Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : undefined));
    }
    this.sendHeaders();
    return super.end(chunk, encoding, callback);
  }

  /** Fails the exchange: before the headers the SDK's promise rejects, after them its body stream errs. */
  abort(error: Error): void {
    if (!this.settled) {
      this.settled = true;
      this.onError(error);
    } else {
      this.body?.destroy(error);
    }
    this.destroy();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.body!.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.sendHeaders();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A listener that destroys its response before ending it is a dropped connection to the client.
    if (!this.writableFinished) {
      const reset = error ?? Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      if (!this.settled) {
        this.settled = true;
        this.onError(reset);
      } else if (!this.body?.destroyed) {
        this.body?.destroy(reset);
      }
    }
    callback(error);
  }

  private sendHeaders(): void {
    if (this.headersSent) return;
    if (this.sendDate && !this.hasHeader('date')) this.setHeader('date', new Date().toUTCString());
    this.headersSent = true;
    this.body = new PassThrough();
    if (this.settled) return;
    this.settled = true;
    const headers: Record<string, string> = {};
    for (const [name, { value }] of this.headerValues) headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
    this.onResponse({
      statusCode: this.statusCode,
      reason: this.statusMessage || STATUS_CODES[this.statusCode],
      headers,
      body: this.body,
    });
  }
}

/** The request body, written as `NodeHttpHandler` writes it to a socket. */
function writeBody(incoming: Writable, body: unknown): void {
  if (body instanceof Readable) {
    body.pipe(incoming);
  } else if (typeof body === 'string') {
    incoming.end(body);
  } else if (ArrayBuffer.isView(body)) {
    incoming.end(body.byteLength === 0 ? undefined : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  } else if (body) {
    incoming.end(Buffer.from(body as ArrayBuffer));
  } else {
    incoming.end();
  }
}

/** smithy's `buildQueryString`: keys sorted, RFC 3986 escaping, repeated keys for lists. */
function buildQueryString(query: NonNullable<SdkHttpRequest['query']>): string {
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    const value = query[key];
    if (Array.isArray(value)) {
      for (const item of value) parts.push(`${escapeUri(key)}=${escapeUri(item)}`);
    } else {
      parts.push(value || typeof value === 'string' ? `${escapeUri(key)}=${escapeUri(value as string)}` : escapeUri(key));
    }
  }
  return parts.join('&');
}

function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The error `NodeHttpHandler` rejects with when the SDK's abort signal fires. */
function abortError(signal: AbortSignalLike): Error {
  const reason = signal.reason;
  const error = new Error(reason && !(reason instanceof Error) ? String(reason) : 'Request aborted');
  error.name = 'AbortError';
  if (reason instanceof Error) error.cause = reason;
  return error;
}
