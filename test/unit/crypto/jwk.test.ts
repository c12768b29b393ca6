import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { canonicalPublicKey, NonCanonicalKey } from '../../../src/crypto/jwk.ts';

const exported = (type: 'ec' | 'ed25519' | 'rsa') => {
  const { publicKey } =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  return publicKey.export({ format: 'jwk' }) as JWK;
};

describe('canonicalPublicKey (RFC 7638 over canonical members)', () => {
  it('gives the thumbprint jose computes for canonical EC, OKP and RSA keys', async () => {
    for (const jwk of [exported('ec'), exported('ed25519'), exported('rsa')]) {
      expect(canonicalPublicKey({ ...jwk, kid: 'x', use: 'sig' }).thumbprint).toBe(
        await calculateJwkThumbprint(jwk),
      );
    }
    expect(canonicalPublicKey(exported('rsa')).modulusBits).toBe(2048);
  });

  it('refuses a leading zero octet in an RSA modulus or exponent (RFC 7518 §2 Base64urlUInt)', () => {
    const jwk = exported('rsa');
    const zero = (v: string) =>
      Buffer.concat([Buffer.alloc(1), Buffer.from(v, 'base64url')]).toString('base64url');
    expect(() => canonicalPublicKey({ ...jwk, n: zero(jwk.n!) })).toThrow(NonCanonicalKey);
    expect(() => canonicalPublicKey({ ...jwk, e: zero(jwk.e!) })).toThrow(NonCanonicalKey);
  });

  it('refuses curves it does not know, inherited names included, and non-string members', () => {
    const jwk = exported('ec');
    for (const crv of ['constructor', '__proto__', 'P-257', undefined]) {
      expect(() => canonicalPublicKey({ ...jwk, crv })).toThrow(NonCanonicalKey);
    }
    expect(() => canonicalPublicKey({ ...jwk, x: 42 })).toThrow(NonCanonicalKey);
    expect(() => canonicalPublicKey({ kty: 'oct', k: 'AAAA' })).toThrow(NonCanonicalKey);
    expect(() => canonicalPublicKey([jwk])).toThrow(NonCanonicalKey);
  });
});
