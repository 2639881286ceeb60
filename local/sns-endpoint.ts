/**
 * A small SNS of our own for the local runtime: nothing on npm emulates mobile push and SMS for the SDK v3
 * client. It speaks the awsQuery protocol of `@aws-sdk/client-sns` for the actions Parley uses and records
 * every publish in an outbox instead of sending it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback } from './aws/loopback';
import { Outbox, type DeliveryPredicate, type SnsDelivery } from './sns/outbox';
import { PlatformEndpoints } from './sns/platform-endpoints';
import { parseQueryRequest, renderError, renderResult } from './sns/query-protocol';
import { snsActions, type SnsAction } from './sns/sns-actions';
import { internalError, invalidAction, invalidParameter, SnsError } from './sns/sns-error';

export type { SnsDelivery } from './sns/outbox';

/** The account in local ARNs, the one kinesalite uses too. */
const LOCAL_ACCOUNT_ID = '000000000000';
/** SNS accepts messages up to 256 KB; form encoding can triple that. */
const MAX_REQUEST_BYTES = 1024 * 1024;

export interface SnsEndpointOptions {
  /** Default 0: a free port. */
  readonly port?: number;
  /** Where SMS (with the phone number masked) and pushes are shown; default `console.log`. */
  readonly log?: (line: string) => void;
  /** The region in the ARNs it makes; default `us-east-1`. */
  readonly region?: string;
}

export interface SnsEndpoint {
  /** Base URL to give the SNS client as `endpoint`. */
  readonly endpoint: string;
  /** Every accepted publish, oldest first. */
  readonly outbox: readonly SnsDelivery[];
  /** The first delivery, already recorded or still to come, that matches; rejects after `timeoutMs` (default 2 s). */
  waitFor(predicate: DeliveryPredicate, timeoutMs?: number): Promise<SnsDelivery>;
  close(): Promise<void>;
}

/**
 * Starts the SNS endpoint on 127.0.0.1.
 *
 * @example
 * const sns = await startSnsEndpoint();
 * const client = new SNSClient({ region: 'us-east-1', endpoint: sns.endpoint });
 * await client.send(new PublishCommand({ PhoneNumber: '+15551234567', Message: 'Your code is 123456' }));
 * const sms = await sns.waitFor((delivery) => delivery.kind === 'sms');
 * await sns.close();
 */
export async function startSnsEndpoint(options: SnsEndpointOptions = {}): Promise<SnsEndpoint> {
  const outbox = new Outbox();
  const log = options.log ?? console.log;
  const actions = snsActions({
    endpoints: new PlatformEndpoints(`arn:aws:sns:${options.region ?? 'us-east-1'}:${LOCAL_ACCOUNT_ID}`),
    outbox,
    log,
    now: Date.now,
  });
  const server = createServer((request, response) => void answer(request, response, actions, log));
  const endpoint = await listenOnLoopback(server, options.port);
  return {
    endpoint,
    outbox: outbox.deliveries,
    waitFor: (predicate, timeoutMs) => outbox.waitFor(predicate, timeoutMs),
    close: () => closeServer(server),
  };
}

async function answer(
  request: IncomingMessage,
  response: ServerResponse,
  actions: ReadonlyMap<string, SnsAction>,
  log: (line: string) => void,
): Promise<void> {
  let status = 200;
  let body: string;
  try {
    const { action, params } = parseQueryRequest(await readBody(request));
    const run = actions.get(action);
    if (!run) throw invalidAction(action);
    body = renderResult(action, run(params));
  } catch (error) {
    if (!(error instanceof SnsError)) log(`Local SNS endpoint failed: ${String(error)}`);
    const snsError = error instanceof SnsError ? error : internalError();
    status = snsError.status;
    body = renderError(snsError);
  }
  response.writeHead(status, { 'content-type': 'text/xml' }).end(body);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) throw invalidParameter('Message', 'Message too long');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
