/** An account has a primary device and up to 4 linked ones, as on WhatsApp. Device ids run 1..MAX_DEVICES. */
export const MAX_DEVICES = 5;
export const PRIMARY_DEVICE_ID = 1;
/** Every id a device of an account may have. */
export const DEVICE_IDS: readonly number[] = Array.from({ length: MAX_DEVICES }, (_, i) => PRIMARY_DEVICE_ID + i);

/** A verification code is good for 10 minutes and 3 tries. */
export const CODE_TTL_MS = 10 * 60 * 1000;
export const CODE_ATTEMPTS = 3;
/** At most one code a minute and 5 a day per number, so nobody can pump SMS through the service. */
export const CODE_RESEND_INTERVAL_MS = 60 * 1000;
export const CODE_SENDS_PER_WINDOW = 5;
export const CODE_SEND_WINDOW_MS = 24 * 60 * 60 * 1000;

/** A link token (the QR code a signed-in device shows) is good for 5 minutes and one use. */
export const LINK_TOKEN_TTL_MS = 5 * 60 * 1000;

/**
 * Limits on SMS codes beyond the per-number ones, against SMS pumping (a fraudster asks for codes to many
 * numbers of a premium range and is paid per SMS). Fixed windows: clock hours and UTC days.
 */
export interface SmsLimits {
  /** Codes per source address (IPv4, or IPv6 /64) per hour. */
  readonly perSourceIpPerHour: number;
  /** Codes per number prefix (the first {@link NUMBER_PREFIX_DIGITS} digits) per hour. */
  readonly perNumberPrefixPerHour: number;
  /** Codes per UTC day for the whole deployment: the SMS bill's ceiling. */
  readonly perDay: number;
}

/**
 * 10 an hour per address: a person needs one or two codes, a household or office behind one address a
 * few; a mobile network's shared (carrier-grade NAT) address is what this may pinch, and a refused phone
 * can retry after the hour. 50 an hour per prefix: far above what real sign-ups in one 6-digit range
 * need, far below what pays a pumping fraud. 10,000 a day bounds a day's SMS bill whatever gets past the
 * other limits; a deployment sets its own with the `parley:smsDailyBudget` context.
 */
export const DEFAULT_SMS_LIMITS: SmsLimits = { perSourceIpPerHour: 10, perNumberPrefixPerHour: 50, perDay: 10_000 };

/**
 * Digits of the E.164 number (after the `+`) that make its prefix: the country calling code (1-3 digits)
 * and the start of the national range that premium-rate and pumped ranges are allocated by
 * (`+14155…` for 415-5xx in the US, `+447911…`, `+234803…`).
 */
export const NUMBER_PREFIX_DIGITS = 6;
