/**
 * A bare client of the local stack for integration tests: HTTP calls and a WebSocket that queues frames.
 * Registered and linked devices upload keys at once, as SDK clients do, since only a device with keys is
 * addressable; the `WithoutKeys` variants leave that to the test.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import WebSocket from 'ws';
import type { ParleyLocal } from '../../local/runtime';
import { encodeDeviceCredentials, type DeviceCredentials } from '../../lambdas/protocol/credentials';
import { DeviceKeyMaterial } from './signal-keys';

/** A device that has uploaded keys: envelopes to it name its `registrationId`. */
export interface TestDevice extends DeviceCredentials {
  readonly registrationId: number;
  readonly keys: DeviceKeyMaterial;
}

export async function call(
  parley: ParleyLocal,
  method: string,
  path: string,
  options: { body?: unknown; device?: DeviceCredentials } = {},
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${parley.httpUrl}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(options.device ? { authorization: encodeDeviceCredentials(options.device) } : {}),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

export const newSecret = () => randomBytes(32).toString('base64url');

/** Uploads a device's first keys (no one-time prekeys): from then on it is addressable. */
export async function uploadFirstKeys(parley: ParleyLocal, device: DeviceCredentials, keys = new DeviceKeyMaterial()): Promise<TestDevice> {
  const uploaded = await call(parley, 'PUT', '/v1/keys/self', { device, body: keys.firstUpload(device, 0) });
  if (uploaded.status !== 200) throw new Error(`key upload failed: ${JSON.stringify(uploaded)}`);
  return { ...device, registrationId: keys.registrationId, keys };
}

/** Registers a number end to end and uploads the device's keys. */
export async function registerAccount(parley: ParleyLocal, phoneNumber: string, deviceName = 'Phone'): Promise<TestDevice> {
  return uploadFirstKeys(parley, await registerAccountWithoutKeys(parley, phoneNumber, deviceName));
}

/** Links a device and uploads its keys. */
export async function linkDevice(parley: ParleyLocal, by: DeviceCredentials, deviceName: string): Promise<TestDevice> {
  return uploadFirstKeys(parley, await linkDeviceWithoutKeys(parley, by, deviceName));
}

/** Registers a number end to end, reading the code from the SMS the local SNS endpoint recorded. */
export async function registerAccountWithoutKeys(parley: ParleyLocal, phoneNumber: string, deviceName = 'Phone'): Promise<DeviceCredentials> {
  const since = Date.now();
  const requested = await call(parley, 'POST', '/v1/verification/code', { body: { phoneNumber } });
  if (requested.status !== 202) throw new Error(`code request failed: ${JSON.stringify(requested)}`);
  const sms = await parley.emulators.sns.waitFor((d) => d.kind === 'sms' && d.to === phoneNumber && d.at >= since, 5000);
  const code = /(\d{6})/.exec(sms.message)![1]!;
  const secret = newSecret();
  const registered = await call(parley, 'POST', '/v1/accounts', { body: { phoneNumber, code, deviceSecret: secret, deviceName } });
  if (registered.status !== 201) throw new Error(`registration failed: ${JSON.stringify(registered)}`);
  return { ...registered.body, secret };
}

/**
 * Forgets the codes sent to a number, so that a test can register it again at once rather than wait out
 * the resend interval.
 */
export async function forgetCodeRequests(parley: ParleyLocal, phoneNumber: string): Promise<void> {
  await parley.clients.db.send(new DeleteCommand({ TableName: parley.resources.tables.verificationCodes, Key: { phoneNumber } }));
}

export async function linkDeviceWithoutKeys(parley: ParleyLocal, by: DeviceCredentials, deviceName: string): Promise<DeviceCredentials> {
  const token = await call(parley, 'POST', '/v1/devices/link-token', { device: by });
  if (token.status !== 201) throw new Error(`link token failed: ${JSON.stringify(token)}`);
  const secret = newSecret();
  const linked = await call(parley, 'POST', '/v1/devices/link', { body: { linkToken: token.body.linkToken, deviceSecret: secret, deviceName } });
  if (linked.status !== 201) throw new Error(`link failed: ${JSON.stringify(linked)}`);
  return { ...linked.body, secret };
}

export interface DeviceSocket {
  readonly socket: WebSocket;
  /** Sends a frame as JSON (a string as it is), in 32 KB fragments when it is larger. */
  send(frame: unknown): void;
  /** The next frame from the server that satisfies `match` (frames before it that do not are kept). */
  next(match?: (frame: any) => boolean, timeoutMs?: number): Promise<any>;
  /** Resolves with the close code when the server closes the connection. */
  readonly closed: Promise<number>;
  close(): Promise<void>;
}

/** Characters per WebSocket frame: the frames stay under API Gateway's 32 KB (the text is ASCII JSON). */
const FRAME_CHARS = 32 * 1024;

/** Opens the device's WebSocket; rejects with the HTTP status when the handshake is refused. */
export function connectDevice(parley: ParleyLocal, device?: DeviceCredentials, headers: Record<string, string> = {}): Promise<DeviceSocket> {
  const socket = new WebSocket(parley.webSocketUrl, {
    headers: { ...(device ? { Authorization: encodeDeviceCredentials(device) } : {}), ...headers },
  });
  const inbox: any[] = [];
  const waiters: { match: (frame: any) => boolean; resolve: (frame: any) => void }[] = [];
  socket.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    const waiter = waiters.find((w) => w.match(frame));
    if (waiter) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(frame);
    } else inbox.push(frame);
  });
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  const client: DeviceSocket = {
    socket,
    send: (frame) => {
      // As a client SDK does: API Gateway takes frames of at most 32 KB, so a larger message goes in fragments.
      const text = typeof frame === 'string' ? frame : JSON.stringify(frame);
      for (let offset = 0; offset < text.length || offset === 0; offset += FRAME_CHARS) {
        socket.send(text.slice(offset, offset + FRAME_CHARS), { fin: offset + FRAME_CHARS >= text.length });
      }
    },
    next: (match = () => true, timeoutMs = 5000) => {
      const queued = inbox.findIndex(match);
      if (queued >= 0) return Promise.resolve(inbox.splice(queued, 1)[0]);
      return new Promise((resolve, reject) => {
        const waiter = { match, resolve: (frame: any) => (clearTimeout(timer), resolve(frame)) };
        const timer = setTimeout(() => {
          // A frame that comes later must stay in the inbox for the next caller, not go to this waiter.
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(inbox)}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    closed,
    close: async () => {
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
      await closed;
    },
  };
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(client));
    socket.once('unexpected-response', (_request, response) => reject(Object.assign(new Error(`handshake refused: ${response.statusCode}`), { status: response.statusCode })));
    socket.once('error', reject);
  });
}

/** Sends a frame with a fresh requestId; resolves with the server's answer to it. */
export async function request(socket: DeviceSocket, frame: object): Promise<any> {
  const requestId = randomUUID();
  socket.send({ ...frame, requestId });
  return socket.next((f) => f.requestId === requestId);
}
