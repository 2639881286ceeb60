/** Registering an account: a one-time code by SMS proves the number, then the primary device is created. */
import { createHash, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { ParleyError, rateLimited } from '../protocol/errors';
import type { RegisteredDevice } from '../protocol/accounts-api';
import type { Deps } from '../runtime/deps';
import { claimPhoneNumber } from '../tables/accounts';
import { deleteDevice, listDevices, putDevice } from '../tables/devices';
import { consumeCode, getVerification, replaceCode, takeAttempt } from '../tables/verification-codes';
import { endDeviceSession } from '../connect/sessions';
import { clearQueue, queueOf } from '../tables/device-queues';
import { forgetDeviceKeys } from '../keys/forget-device-keys';
import { releaseDevicePush } from '../push/push-registration';
import {
  CODE_ATTEMPTS,
  CODE_RESEND_INTERVAL_MS,
  CODE_SEND_WINDOW_MS,
  CODE_SENDS_PER_WINDOW,
  CODE_TTL_MS,
  PRIMARY_DEVICE_ID,
  type SmsLimits,
} from './constants';
import { hashSecret } from './device-secrets';
import { takeSmsAllowance } from './sms-limits';
import { sendSms } from './sms';

const hashCode = (phoneNumber: string, code: string) =>
  createHash('sha256').update(`${phoneNumber}:${code}`).digest('base64');

const tooManyCodes = (retryAfterMs: number) => rateLimited('Too many codes requested for this number', retryAfterMs);

export interface CodeRequest {
  readonly phoneNumber: string;
  /** The address the request came from, as API Gateway saw it. */
  readonly sourceIp: string;
}

/**
 * Sends a fresh 6-digit code to the number, unless the number had one too recently or too often, or the
 * SMS limits (per source address, per number prefix, per day) are reached. Cheapest refusal first: the
 * per-number limits are read, the others written; a refused request leaves every count as it found it.
 */
export async function requestVerificationCode(deps: Deps, limits: SmsLimits, request: CodeRequest): Promise<{ codeExpiresAt: number }> {
  const { phoneNumber } = request;
  const now = deps.now();
  const previous = await getVerification(deps, phoneNumber);
  const recent = (previous?.sentAt ?? []).filter((sentAt) => sentAt > now - CODE_SEND_WINDOW_MS);
  const last = recent.at(-1);
  if (last !== undefined && now - last < CODE_RESEND_INTERVAL_MS) throw tooManyCodes(last + CODE_RESEND_INTERVAL_MS - now);
  if (recent.length >= CODE_SENDS_PER_WINDOW) throw tooManyCodes(recent[0]! + CODE_SEND_WINDOW_MS - now);

  const allowance = await takeSmsAllowance(deps, limits, request);
  const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
  const codeExpiresAt = now + CODE_TTL_MS;
  const stored = await replaceCode(
    deps,
    {
      phoneNumber,
      codeHash: hashCode(phoneNumber, code),
      codeExpiresAt,
      attemptsLeft: CODE_ATTEMPTS,
      sentAt: [...recent, now],
      version: (previous?.version ?? 0) + 1,
      expiresAt: Math.ceil((now + CODE_SEND_WINDOW_MS) / 1000),
    },
    previous,
  );
  if (!stored) {
    // Another request for the same number got in between: it sent a code and counted it, this one must not.
    await allowance.giveBack();
    throw tooManyCodes(CODE_RESEND_INTERVAL_MS);
  }
  // Stored before sent: a code that reaches the phone can always be checked.
  await sendSms(deps, phoneNumber, `Your Parley code is ${code}. It expires in 10 minutes. Do not share it.`);
  return { codeExpiresAt };
}

/**
 * Uses the code up if it is right. The attempt is counted before the code is compared, in one conditional
 * write, so however many guesses race only the first CODE_ATTEMPTS are compared and every later one is
 * EXPIRED, the right code included: no answer after the last attempt tells the right code from a wrong one.
 */
async function verifyCode(deps: Deps, phoneNumber: string, code: string): Promise<void> {
  const attempt = await takeAttempt(deps, phoneNumber, deps.now());
  if (!attempt) throw new ParleyError('EXPIRED', 'There is no valid code for this number; request a new one');
  const given = Buffer.from(hashCode(phoneNumber, code), 'base64');
  if (!timingSafeEqual(given, Buffer.from(attempt.codeHash, 'base64'))) {
    throw new ParleyError('INVALID_CODE', 'The code is wrong', { attemptsLeft: attempt.attemptsLeft });
  }
  if (!(await consumeCode(deps, phoneNumber, attempt.codeHash))) {
    throw new ParleyError('EXPIRED', 'The code was already used; request a new one');
  }
}

export interface Registration {
  readonly phoneNumber: string;
  readonly code: string;
  readonly deviceSecret: string;
  readonly deviceName?: string | undefined;
}

/**
 * Creates the account and its primary device. Registering a number that already has an account moves
 * the account to the new device: every existing device is signed out and the linked ones must link again.
 */
export async function registerAccount(deps: Deps, registration: Registration): Promise<RegisteredDevice> {
  await verifyCode(deps, registration.phoneNumber, registration.code);
  const now = deps.now();
  const { userId } = await claimPhoneNumber(deps, { phoneNumber: registration.phoneNumber, userId: randomUUID(), createdAt: now });

  // Credentials first, sessions second: a signed-out device cannot reconnect with its old secret.
  const existing = await listDevices(deps, userId);
  await putDevice(deps, {
    userId,
    deviceId: PRIMARY_DEVICE_ID,
    name: registration.deviceName ?? 'Primary device',
    primary: true,
    ...hashSecret(registration.deviceSecret),
    createdAt: now,
  });
  for (const device of existing) {
    if (device.deviceId !== PRIMARY_DEVICE_ID) await deleteDevice(deps, userId, device.deviceId);
    await endDeviceSession(deps, userId, device.deviceId);
    await forgetDeviceKeys(deps, userId, device.deviceId);
    // The new primary device starts without a push token; the old devices' phones are woken no more.
    await releaseDevicePush(deps, device);
  }
  await clearQueue(deps, queueOf(userId, PRIMARY_DEVICE_ID));
  // The new phone has a new identity: peers must see it change, so the old one's keys go.
  await forgetDeviceKeys(deps, userId, PRIMARY_DEVICE_ID);
  return { userId, deviceId: PRIMARY_DEVICE_ID };
}
