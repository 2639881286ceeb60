/**
 * How a device proves who it is, on the WebSocket handshake and on HTTP requests alike:
 * `Authorization: Basic base64("<userId>.<deviceId>:<deviceSecret>")`. The secret is random, made by the
 * device at registration or linking; the server keeps only a salted hash of it.
 */
import * as z from './zod';

export const DeviceSecret = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_-]{32,128}$/, 'a device secret is 32 to 128 base64url characters (use 32 random bytes)'));

export const DeviceId = z.coerce.number().check(z.int(), z.minimum(1), z.maximum(127));

export interface DeviceCredentials {
  readonly userId: string;
  readonly deviceId: number;
  readonly secret: string;
}

export function encodeDeviceCredentials({ userId, deviceId, secret }: DeviceCredentials): string {
  return `Basic ${Buffer.from(`${userId}.${deviceId}:${secret}`).toString('base64')}`;
}

const UserId = z.uuid();

/** Reads the Authorization header; undefined when it is not well-formed device credentials. */
export function parseDeviceCredentials(header: string | undefined): DeviceCredentials | undefined {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header?.trim() ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const login = /^([^.:]+)\.(\d+):(.+)$/.exec(decoded);
  if (!login) return undefined;
  const userId = UserId.safeParse(login[1]);
  const deviceId = DeviceId.safeParse(login[2]);
  const secret = DeviceSecret.safeParse(login[3]);
  if (!userId.success || !deviceId.success || !secret.success) return undefined;
  return { userId: userId.data, deviceId: deviceId.data, secret: secret.data };
}
