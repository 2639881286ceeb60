/** Request bodies of the push-token routes of the HTTP API. */
import * as z from './zod';
import { pushPlatforms } from '../resources';

/** APNs device tokens are 32 bytes today; Apple documents them as variable-length, up to 100 bytes. */
export const APNS_TOKEN_BYTES = { min: 32, max: 100 } as const;
/** FCM registration tokens are about 160 characters today; Google documents no length. 4 KB leaves room. */
export const FCM_TOKEN_MAX_CHARS = 4096;

const apnsTokenPattern = new RegExp(`^(?:[0-9a-fA-F]{2}){${APNS_TOKEN_BYTES.min},${APNS_TOKEN_BYTES.max}}$`);

/** Hexadecimal, as the app formats the `Data` Apple gives it; case does not matter, so it is lowered. */
const ApnsToken = z.pipe(
  z.string().check(z.regex(apnsTokenPattern, `an APNs device token: ${APNS_TOKEN_BYTES.min} to ${APNS_TOKEN_BYTES.max} bytes in hexadecimal`)),
  z.transform((token: string) => token.toLowerCase()),
);

const FcmToken = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(FCM_TOKEN_MAX_CHARS),
    z.regex(/^[\w:.-]+$/, 'an FCM registration token: letters, digits, "-", "_", ":" and "."'),
  );

const platformNames = Object.keys(pushPlatforms).map((platform) => `'${platform}'`).join(', ');

/** PUT /v1/devices/self/push */
export const PushTokenBody = z.discriminatedUnion(
  'platform',
  [
    z.strictObject({ platform: z.literal(['apns', 'apnsSandbox']), token: ApnsToken }),
    z.strictObject({ platform: z.literal('fcm'), token: FcmToken }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? `one of ${platformNames}` : undefined) },
);

export type PushTokenRegistration = z.infer<typeof PushTokenBody>;
