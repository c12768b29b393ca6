import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { didKeyFromJwk, resolveDidKey, resolveKid } from '../../../src/crypto/did.ts';
import { base58btcEncode } from '../../../src/crypto/multibase.ts';

describe('did:key and did:jwk resolution', () => {
  it('resolves Ed25519 and P-256 did:key to the key they were made from', async () => {
    for (const alg of ['EdDSA', 'ES256'] as const) {
      for (let i = 0; i < 5; i++) {
        const jwk = await exportJWK(
          (await generateKeyPair(alg, { crv: alg === 'EdDSA' ? 'Ed25519' : undefined })).publicKey,
        );
        const did = didKeyFromJwk(jwk);
        expect(did.startsWith(alg === 'EdDSA' ? 'did:key:z6Mk' : 'did:key:zDn')).toBe(true);
        expect(resolveDidKey(did)).toEqual(
          jwk.kty === 'OKP'
            ? { kty: 'OKP', crv: 'Ed25519', x: jwk.x }
            : { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y },
        );
        expect(resolveKid(`${did}#${did.slice(8)}`).jwk).toEqual(resolveDidKey(did));
      }
    }
  });

  it('resolves the did:key spec Ed25519 example', () => {
    // https://w3c-ccg.github.io/did-method-key/ (Ed25519 example: z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK)
    const jwk = resolveDidKey('did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK');
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expect(Buffer.from(jwk.x!, 'base64url')).toHaveLength(32);
  });

  it('refuses other methods, wrong fragments, unknown codecs and points off the curve', () => {
    expect(() => resolveKid('did:web:example.com#key-1')).toThrow(/did:key or did:jwk/);
    expect(() => resolveKid('did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#other')).toThrow(
      /fragment/,
    );
    expect(() => resolveKid('did:jwk:eyJrdHkiOiJPS1AifQ#1')).toThrow(/#0/);
    expect(() =>
      resolveDidKey(`did:key:z${base58btcEncode(Uint8Array.from([0xe7, 0x01, ...new Uint8Array(33)]))}`),
    ).toThrow(/not supported/);
    expect(() =>
      resolveDidKey(
        `did:key:z${base58btcEncode(Uint8Array.from([0x80, 0x24, 2, ...new Uint8Array(32).fill(0xff)]))}`,
      ),
    ).toThrow(/curve/);
    expect(() => resolveKid('did:jwk:not-json')).toThrow(/base64url/);
  });
});
