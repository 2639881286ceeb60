/**
 * Error codes are part of the protocol: a client acts on the code, a person reads the message.
 * The same codes travel in WebSocket ERROR frames and in HTTP error bodies.
 */
export const errorStatus = {
  /** The frame or request body is not valid JSON or does not match its schema. */
  BAD_REQUEST: 400,
  /** No route for the frame's `action`. */
  UNKNOWN_ACTION: 400,
  /** Credentials are missing. */
  UNAUTHORIZED: 401,
  /** Credentials are wrong, or the caller may not do this. */
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  /**
   * The SEND's envelopes do not match the devices the server knows: `missingDevices` and `extraDevices`
   * list `{userId, deviceId}`. Refresh those sessions and send again; nothing of the SEND was delivered.
   */
  MISMATCHED_DEVICES: 409,
  /**
   * The SEND's or GROUP_SEND's msgId was used by another device or in another conversation (within the
   * 30 days msgIds are remembered). Nothing was stored: send it again under a fresh UUID.
   */
  MSG_ID_TAKEN: 409,
  /**
   * Some of the SEND's envelopes were encrypted for an earlier holder of a device id (its `registrationId`
   * differs, as after a number is registered again): `staleDevices` lists `{userId, deviceId}`. Drop those
   * sessions, start new ones from fresh bundles and send again; nothing of the SEND was delivered.
   */
  STALE_DEVICES: 410,
  /** The verification code is wrong; `attemptsLeft` says how many tries remain. */
  INVALID_CODE: 403,
  /** The verification code or link token expired or was used up: ask for a new one. */
  EXPIRED: 410,
  /** The account already has the most devices it may have. */
  TOO_MANY_DEVICES: 409,
  /** A prekey's signature does not verify against the device's identity key; `field` names the key. Nothing was stored. */
  INVALID_SIGNATURE: 400,
  /** The upload names another identity key than the device's: a new identity needs a new registration or link. */
  IDENTITY_KEY_CHANGED: 409,
  /** The upload would leave more one-time prekeys of a kind than a device may store; `maxStoredPrekeys`, and the counts stored. */
  TOO_MANY_PREKEYS: 409,
  /**
   * A GROUP_SEND encrypted for an older version of the group; `version` is the current one. Read the
   * group, give its new member devices your Sender Key (a new one if anyone left), and send again.
   */
  STALE_GROUP: 409,
  /** The change would give the group more than 1,024 members; nothing of it was made. */
  GROUP_FULL: 409,
  /**
   * This deployment has no push application for the device's push platform; `platforms` lists those it
   * has. Do not retry: the device is reached while connected and by SYNC only.
   */
  PUSH_UNAVAILABLE: 422,
  /** The declared media is larger than its kind allows; `kind` and `maxBytes` name the limit. Nothing was stored. */
  MEDIA_TOO_LARGE: 413,
  /** The multipart upload is not complete: `missingParts` lists part numbers S3 does not have. Upload them, then complete again. */
  MEDIA_INCOMPLETE: 409,
  /** A REVOKE came more than 48 hours after its message was accepted: the message stays where it is. */
  REVOKE_WINDOW_PASSED: 410,
  /** Too many requests; `retryAfterSeconds` says when to try again. */
  RATE_LIMITED: 429,
  /** Something failed on the server; the request may be retried. */
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof errorStatus;

/** An error the caller can act on. Handlers turn it into an ERROR frame or an HTTP error body. */
export class ParleyError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ParleyError';
    this.code = code;
    this.details = details;
  }

  get httpStatus(): number {
    return errorStatus[this.code];
  }
}

/** RATE_LIMITED, with the wait in whole seconds (at least one, so that a client never retries at once). */
export const rateLimited = (message: string, retryAfterMs: number) =>
  new ParleyError('RATE_LIMITED', message, { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) });
