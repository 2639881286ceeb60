/**
 * Verifies the XEdDSA signatures libsignal makes with an identity key (a Curve25519 key, `0x05` and 32
 * bytes): the signed prekey's, every Kyber prekey's and the first upload's identity proof. Node's crypto
 * verifies Ed25519 but not XEdDSA;
 * XEdDSA is Ed25519 under the Edwards form of the Montgomery key, with that point's sign bit carried in
 * the signature's last bit. So this maps the key to Edwards form, moves the sign bit, and lets Node's
 * (OpenSSL's) Ed25519 do the verification, as libsignal's `PublicKey.verify` does in Rust.
 * It is stricter than libsignal in one way: a signature whose scalar is not reduced (never made by
 * libsignal) is refused.
 *
 * @example
 * const verify = xeddsaVerifier(identityKey);
 * verify(signedPrekey.publicKey, signedPrekey.signature); // true or false
 */
import { createPublicKey, verify } from 'node:crypto';

/** The field prime of Curve25519, 2^255 - 19. */
const P = (1n << 255n) - 19n;
/** libsignal's type byte of a Curve25519 public key. */
export const CURVE25519_KEY_TYPE = 0x05;

function modPow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = base % P;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

const fromLittleEndian = (bytes: Uint8Array): bigint => {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  return value;
};

const toLittleEndian32 = (value: bigint): Buffer => {
  const bytes = Buffer.alloc(32);
  for (let i = 0, v = value; i < 32; i++, v >>= 8n) bytes[i] = Number(v & 0xffn);
  return bytes;
};

/**
 * The Edwards y of the Montgomery u (y = (u - 1) / (u + 1)), encoded as Ed25519 encodes a point, with
 * `sign` as the sign of x; undefined where the map is not defined (u = -1).
 */
function edwardsKeyOf(montgomery: Uint8Array, sign: number): Buffer | undefined {
  // As curve25519-dalek reads a field element: the top bit is ignored.
  const u = fromLittleEndian(montgomery) & ((1n << 255n) - 1n);
  const denominator = (u + 1n) % P;
  if (denominator === 0n) return undefined;
  const y = (((u - 1n + P) % P) * modPow(denominator, P - 2n)) % P;
  const encoded = toLittleEndian32(y);
  encoded[31] = (encoded[31]! & 0x7f) | (sign << 7);
  return encoded;
}

type EdwardsKey = ReturnType<typeof createPublicKey> | undefined;

/**
 * A verifier of XEdDSA signatures by `identityKey` (libsignal's serialized public key: the type byte 0x05
 * and 32 bytes). It answers whether `signature` (64 bytes) signs `message`. The key's two Edwards forms
 * (one per sign bit) are made once, so checking a hundred Kyber prekeys costs one conversion.
 */
export function xeddsaVerifier(identityKey: Uint8Array): (message: Uint8Array, signature: Uint8Array) => boolean {
  const valid = identityKey.length === 33 && identityKey[0] === CURVE25519_KEY_TYPE;
  const keys: [EdwardsKey?, EdwardsKey?] = [];
  const keyFor = (sign: 0 | 1): EdwardsKey => {
    if (sign in keys) return keys[sign];
    const encoded = edwardsKeyOf(identityKey.subarray(1), sign);
    try {
      keys[sign] = encoded && createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: encoded.toString('base64url') }, format: 'jwk' });
    } catch {
      // Not a point on the curve: no signature by it verifies.
      keys[sign] = undefined;
    }
    return keys[sign];
  };
  return (message, signature) => {
    if (!valid || signature.length !== 64) return false;
    const key = keyFor((signature[63]! >> 7) as 0 | 1);
    if (!key) return false;
    const ed25519Signature = Buffer.from(signature);
    ed25519Signature[63]! &= 0x7f;
    return verify(null, message, key, ed25519Signature);
  };
}
