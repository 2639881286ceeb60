/** An account has a primary device and up to 4 linked ones, as on WhatsApp. Device ids run 1..MAX_DEVICES. */
export const MAX_DEVICES = 5;
export const PRIMARY_DEVICE_ID = 1;

/** A verification code is good for 10 minutes and 3 tries. */
export const CODE_TTL_MS = 10 * 60 * 1000;
export const CODE_ATTEMPTS = 3;
/** At most one code a minute and 5 a day per number, so nobody can pump SMS through the service. */
export const CODE_RESEND_INTERVAL_MS = 60 * 1000;
export const CODE_SENDS_PER_WINDOW = 5;
export const CODE_SEND_WINDOW_MS = 24 * 60 * 60 * 1000;

/** A link token (the QR code a signed-in device shows) is good for 5 minutes and one use. */
export const LINK_TOKEN_TTL_MS = 5 * 60 * 1000;
