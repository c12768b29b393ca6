import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { CompactSign, compactVerify, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { derToP1363, es256Sign, es256Verify, PublicKeyCache, p1363ToDer } from '../../../src/crypto/ecdsa.ts';

const p256 = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const data = Buffer.from('eyJhbGciOiJFUzI1NiJ9.eyJub25jZSI6Im4ifQ');

describe('ES256 over DER signatures (src/crypto/ecdsa.ts)', () => {
  it('converts both ways exactly as node:crypto encodes, including short and high-bit scalars', () => {
    const { privateKey } = p256();
    let shortScalar = false;
    let highBit = false;
    // r or s below 2^248 (a leading zero octet) comes once in ~128 signatures; a set high bit in
    // half of them: 2,000 signatures meet both with near certainty.
    for (let i = 0; i < 2000; i++) {
      const der = sign('sha256', data, privateKey);
      const jose = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const converted = derToP1363(der);
      expect(converted).toHaveLength(64);
      expect(p1363ToDer(converted)).toEqual(der);
      shortScalar ||= der[3]! < 32 || der[der[3]! + 5]! < 32;
      highBit ||= der[3] === 33;
      // Same key, fresh randomness: only the encoding of `jose` is comparable, via its DER form.
      expect(verify('sha256', data, privateKey, p1363ToDer(jose)!)).toBe(true);
    }
    expect(shortScalar).toBe(true);
    expect(highBit).toBe(true);
  });

  it('signs what jose verifies and verifies what jose signs', async () => {
    const { privateKey, publicKey } = p256();
    const jwk = publicKey.export({ format: 'jwk' });
    const joseKey = await importJWK({ ...jwk, alg: 'ES256' } as never, 'ES256');
    const input = Buffer.from(
      `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${data.toString('base64url')}`,
    );
    const ours = `${input}.${es256Sign(privateKey, input).toString('base64url')}`;
    await expect(compactVerify(ours, joseKey)).resolves.toBeDefined();

    const theirs = await new CompactSign(data).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    const [h, p, s] = theirs.split('.');
    expect(es256Verify(publicKey, Buffer.from(`${h}.${p}`), Buffer.from(s!, 'base64url'))).toBe(true);
  });

  it('refuses a tampered signature, another key, another message and a signature of another size', () => {
    const { privateKey, publicKey } = p256();
    const signature = es256Sign(privateKey, data);
    expect(es256Verify(publicKey, data, signature)).toBe(true);
    const flipped = Buffer.from(signature);
    flipped[40]! ^= 1;
    expect(es256Verify(publicKey, data, flipped)).toBe(false);
    expect(es256Verify(p256().publicKey, data, signature)).toBe(false);
    expect(es256Verify(publicKey, Buffer.from('other'), signature)).toBe(false);
    expect(es256Verify(publicKey, data, signature.subarray(0, 63))).toBe(false);
    expect(es256Verify(publicKey, data, Buffer.concat([signature, Buffer.of(0)]))).toBe(false);
    expect(es256Verify(publicKey, data, Buffer.alloc(64))).toBe(false);
    // DER itself is not accepted where JOSE's r ‖ s is expected.
    expect(es256Verify(publicKey, data, sign('sha256', data, privateKey))).toBe(false);
  });
});

describe('PublicKeyCache', () => {
  it('gives the key the JWK spells, imports each key once, and evicts the least recently used', () => {
    const cache = new PublicKeyCache(2);
    const [a, b, c] = [p256(), p256(), p256()].map((k) => ({
      jwk: k.publicKey.export({ format: 'jwk' }) as { kty: string; crv: string; x: string; y: string },
      privateKey: k.privateKey,
    }));
    const keyA = cache.get(a!.jwk);
    expect(es256Verify(keyA, data, es256Sign(a!.privateKey, data))).toBe(true);
    expect(cache.get({ ...a!.jwk })).toBe(keyA);
    cache.get(b!.jwk);
    cache.get(a!.jwk); // a is now the most recently used: c evicts b
    cache.get(c!.jwk);
    expect(cache.get(a!.jwk)).toBe(keyA);
    const keyB = cache.get(b!.jwk);
    expect(es256Verify(keyB, data, es256Sign(b!.privateKey, data))).toBe(true);
    expect(es256Verify(keyB, data, es256Sign(a!.privateKey, data))).toBe(false);
  });

  it('keeps keys whose members would join to the same string apart', () => {
    const cache = new PublicKeyCache();
    const { publicKey } = p256();
    const jwk = publicKey.export({ format: 'jwk' }) as { kty: string; crv: string; x: string; y: string };
    const key = cache.get(jwk);
    // A JWK whose x carries a separator and part of y: never the cached key of `jwk`.
    expect(() => cache.get({ ...jwk, x: `${jwk.x}","${jwk.y}`, y: '' })).toThrow();
    expect(cache.get(jwk)).toBe(key);
  });
});
