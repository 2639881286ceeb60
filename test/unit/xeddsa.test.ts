/** The XEdDSA verifier against signatures libsignal itself makes. */
import * as signal from '@signalapp/libsignal-client';
import { xeddsaVerifier } from '../../lambdas/keys/xeddsa';

const signed = (identity: signal.IdentityKeyPair, message: Uint8Array<ArrayBuffer>) => identity.privateKey.sign(message);
const ecKey = () => signal.PrivateKey.generate().getPublicKey().serialize();
const kyberKey = () => signal.KEMKeyPair.generate().getPublicKey().serialize();

describe('xeddsaVerifier', () => {
  it('verifies what libsignal signs, for 100 identity keys and both kinds of prekey', () => {
    for (let i = 0; i < 100; i++) {
      const identity = signal.IdentityKeyPair.generate();
      const verify = xeddsaVerifier(identity.publicKey.serialize());
      for (const message of [ecKey(), kyberKey()]) {
        expect(verify(message, signed(identity, message))).toBe(true);
      }
    }
  });

  it('refuses every signature with one bit flipped, as libsignal does', () => {
    const identity = signal.IdentityKeyPair.generate();
    const message = kyberKey();
    const signature = signed(identity, message);
    const verify = xeddsaVerifier(identity.publicKey.serialize());
    for (let bit = 0; bit < 512; bit++) {
      const flipped = new Uint8Array(signature);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      expect({ bit, ours: verify(message, flipped) }).toEqual({ bit, ours: identity.publicKey.verify(message, flipped) });
    }
  });

  it('refuses a signature by another identity key, and of another message', () => {
    const identity = signal.IdentityKeyPair.generate();
    const message = ecKey();
    expect(xeddsaVerifier(identity.publicKey.serialize())(message, signed(signal.IdentityKeyPair.generate(), message))).toBe(false);
    expect(xeddsaVerifier(identity.publicKey.serialize())(ecKey(), signed(identity, message))).toBe(false);
  });

  it('refuses everything for a malformed identity key or signature', () => {
    const identity = signal.IdentityKeyPair.generate();
    const message = ecKey();
    const signature = signed(identity, message);
    const key = identity.publicKey.serialize();
    expect(xeddsaVerifier(Uint8Array.from([0x08, ...key.subarray(1)]))(message, signature)).toBe(false);
    expect(xeddsaVerifier(key.subarray(0, 32))(message, signature)).toBe(false);
    expect(xeddsaVerifier(key)(message, signature.subarray(0, 63))).toBe(false);
    // u = p - 1 has no Edwards form.
    const minusOne = Buffer.alloc(33, 0xff);
    minusOne[0] = 0x05;
    minusOne[1] = 0xec;
    minusOne[32] = 0x7f;
    expect(xeddsaVerifier(minusOne)(message, signature)).toBe(false);
  });
});
