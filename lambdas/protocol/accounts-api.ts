/** Request bodies of the accounts and devices HTTP API, one schema each. */
import * as z from './zod';
import { DeviceSecret } from './credentials';

export const PhoneNumber = z.string().check(z.regex(/^\+[1-9]\d{6,14}$/, 'an E.164 phone number, such as +14155550123'));

export const DeviceName = z.string().check(z.trim(), z.minLength(1), z.maxLength(64));

/** POST /v1/verification/code */
export const RequestCodeBody = z.strictObject({ phoneNumber: PhoneNumber });

/** POST /v1/accounts */
export const RegisterAccountBody = z.strictObject({
  phoneNumber: PhoneNumber,
  code: z.string().check(z.regex(/^\d{6}$/, 'the 6-digit code from the SMS')),
  deviceSecret: DeviceSecret,
  deviceName: z.optional(DeviceName),
});

/** POST /v1/devices/link */
export const LinkDeviceBody = z.strictObject({
  linkToken: z.string().check(z.regex(/^[A-Za-z0-9_-]{43}$/, 'the link token shown by the signed-in device')),
  deviceSecret: DeviceSecret,
  deviceName: DeviceName,
});

/** Bodies of routes that take none. */
export const NoBody = z.strictObject({});

export interface RegisteredDevice {
  userId: string;
  deviceId: number;
}

export interface DeviceSummary {
  deviceId: number;
  name: string;
  primary: boolean;
  createdAt: number;
  /** The device has uploaded its keys: messages reach it, and SENDs must carry an envelope for it. */
  hasKeys: boolean;
}
