import { createECDH, createPrivateKey, createPublicKey } from 'node:crypto';
import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import { CompactSign, compactVerify, createLocalJWKSet, importJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { base58btcDecode } from '../../src/crypto/multibase.ts';
import { decodeMultikey, publicKeyMultibase } from '../../src/crypto/multikey.ts';
import {
  credentialJwks,
  credentialJwksUrl,
  DID_CONTEXTS,
  didDocument,
  didDocumentUrl,
  didWebFromUrl,
  jwkVerificationMethodId,
  jwtVcIssuerMetadata,
  keyDocumentPaths,
  oidcJwks,
  verificationMethodId,
} from '../../src/keys/documents.ts';
import { createKeyStore } from '../../src/keys/key-store.ts';
import type { KeyStore } from '../../src/keys/spi.ts';
import { TestClock } from '../helpers/clock.ts';
import { createMemoryStore } from '../helpers/memory-store.ts';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

function jsonKeys(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(jsonKeys);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, inner]) => [key, ...jsonKeys(inner)]);
  }
  return [];
}

describe('did:web identifiers', () => {
  // did:web Method Specification §3.2, https://w3c-ccg.github.io/did-method-web/#create-register
  it.each([
    ['http://127.0.0.1:3000', 'did:web:127.0.0.1%3A3000'],
    ['https://id.example.gov', 'did:web:id.example.gov'],
    ['https://id.example.gov/issuer', 'did:web:id.example.gov:issuer'],
    ['https://w3c-ccg.github.io/user/alice', 'did:web:w3c-ccg.github.io:user:alice'],
    ['https://example.com:8443/a/b', 'did:web:example.com%3A8443:a:b'],
    ['https://example.com:443', 'did:web:example.com'],
    ['https://Example.COM/issuer/', 'did:web:example.com:issuer'],
  ])('turns %s into %s', (url, did) => {
    expect(didWebFromUrl(url)).toBe(did);
  });

  it.each([
    ['http://127.0.0.1:3000', 'http://127.0.0.1:3000/.well-known/did.json'],
    ['https://id.example.gov/issuer', 'https://id.example.gov/issuer/did.json'],
    ['https://w3c-ccg.github.io/user/alice', 'https://w3c-ccg.github.io/user/alice/did.json'],
  ])('serves the DID document of %s at %s', (url, documentUrl) => {
    expect(didDocumentUrl(url)).toBe(documentUrl);
  });

  it('rejects a non-http public URL', () => {
    expect(() => didWebFromUrl('ftp://example.com')).toThrow(/not an http\(s\) URL/);
  });

  it('places jwt-vc-issuer metadata by inserting the well-known segment before the issuer path', () => {
    expect(keyDocumentPaths('http://127.0.0.1:3000')).toEqual({
      didDocument: '/.well-known/did.json',
      jwtVcIssuer: '/.well-known/jwt-vc-issuer',
      credentialJwks: '/jwks/credentials',
    });
    expect(keyDocumentPaths('https://id.example.gov/tenant/issuer')).toEqual({
      didDocument: '/tenant/issuer/did.json',
      jwtVcIssuer: '/.well-known/jwt-vc-issuer/tenant/issuer',
      credentialJwks: '/tenant/issuer/jwks/credentials',
    });
    expect(credentialJwksUrl('https://id.example.gov/issuer')).toBe(
      'https://id.example.gov/issuer/jwks/credentials',
    );
  });
});

describe('Multikey encoding', () => {
  // VC Data Integrity EdDSA Cryptosuites v1.0, Appendix A test key pair
  // (https://www.w3.org/TR/vc-di-eddsa/#test-vectors), kept verbatim.
  const ED25519_VECTOR = {
    publicKeyMultibase: 'z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2',
    secretKeyMultibase: 'z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq',
  };
  // VC Data Integrity ECDSA Cryptosuites v1.0, Appendix A P-256 test key pair
  // (https://www.w3.org/TR/vc-di-ecdsa/#test-vectors), kept verbatim.
  const P256_VECTOR = {
    publicKeyMultibase: 'zDnaepBuvsQ8cpsWrVKw8fbpGpvPeNSjVPTWoq6cRqaYzBKVP',
    secretKeyMultibase: 'z42twTcNeSYcnqg1FLuSFs2bsGH3ZqbRHFmvS9XMsYhjxvHN',
  };

  it('encodes the W3C Ed25519 test key as its published publicKeyMultibase', () => {
    const secret = base58btcDecode(ED25519_VECTOR.secretKeyMultibase.slice(1));
    expect([...secret.slice(0, 2)]).toEqual([0x80, 0x26]); // ed25519-priv multicodec
    const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), secret.slice(2)]);
    const jwk = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({
      format: 'jwk',
    });
    const encoded = publicKeyMultibase(jwk);
    expect(encoded).toBe(ED25519_VECTOR.publicKeyMultibase);
    expect(encoded.startsWith('z6Mk')).toBe(true);
    const decoded = decodeMultikey(encoded);
    expect(decoded.codec).toBe('ed25519-pub');
    expect(Buffer.from(decoded.key).toString('base64url')).toBe(jwk.x);
  });

  it('encodes the W3C P-256 test key as its published publicKeyMultibase (compressed point)', () => {
    const secret = base58btcDecode(P256_VECTOR.secretKeyMultibase.slice(1));
    expect([...secret.slice(0, 2)]).toEqual([0x86, 0x26]); // p256-priv multicodec
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(secret.slice(2)));
    const point = ecdh.getPublicKey();
    const jwk = {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
    };
    expect(publicKeyMultibase(jwk)).toBe(P256_VECTOR.publicKeyMultibase);
    const decoded = decodeMultikey(P256_VECTOR.publicKeyMultibase);
    expect(decoded.codec).toBe('p256-pub');
    expect(Buffer.from(decoded.key).equals(ecdh.getPublicKey(null, 'compressed'))).toBe(true);
  });

  it('refuses key types Multikey does not cover here', () => {
    expect(() => publicKeyMultibase({ kty: 'RSA', n: 'AQAB', e: 'AQAB' })).toThrow(/no Multikey encoding/);
  });
});

describe('verifier documents', () => {
  const publicUrl = 'https://id.example.gov/issuer';
  const did = 'did:web:id.example.gov:issuer';
  let keys: KeyStore;

  beforeAll(async () => {
    const clock = new TestClock(Date.UTC(2025, 0, 1));
    keys = createKeyStore({
      store: createMemoryStore(clock),
      clock,
      encryptionSecret: 'documents-test-secret-0123456789abcdef',
      retiredKeyPublishSeconds: 600,
    });
    await keys.init();
    await keys.rotate('credential', 'EdDSA');
  });

  it('lists every published credential key as a Multikey at #<kid> and a JWK at #<kid>-jwk', () => {
    const published = keys.published('credential');
    expect(published).toHaveLength(3);
    const doc = didDocument(published, publicUrl) as {
      '@context': string[];
      id: string;
      verificationMethod: Record<string, unknown>[];
      assertionMethod: string[];
      authentication: string[];
    };
    expect(doc['@context']).toEqual(DID_CONTEXTS);
    expect(doc.id).toBe(did);
    expect(doc.verificationMethod).toHaveLength(6);
    for (const key of published) {
      const multikey = doc.verificationMethod.find((m) => m.id === `${did}#${key.kid}`);
      expect(verificationMethodId(publicUrl, key.kid)).toBe(`${did}#${key.kid}`);
      expect(multikey).toEqual({
        id: `${did}#${key.kid}`,
        type: 'Multikey',
        controller: did,
        publicKeyMultibase: publicKeyMultibase(key.publicJwk),
      });
      expect(multikey!.publicKeyMultibase).toMatch(key.alg === 'EdDSA' ? /^z6Mk/ : /^zDn/);
      const jwk = doc.verificationMethod.find((m) => m.id === jwkVerificationMethodId(publicUrl, key.kid));
      expect(jwk).toMatchObject({ id: `${did}#${key.kid}-jwk`, type: 'JsonWebKey2020', controller: did });
      expect(jwk!.publicKeyJwk).toEqual(key.publicKey.export({ format: 'jwk' }));
      for (const relation of [doc.assertionMethod, doc.authentication]) {
        expect(relation).toEqual(expect.arrayContaining([`${did}#${key.kid}`, `${did}#${key.kid}-jwk`]));
      }
    }
  });

  it('produces Multikeys the Digital Bazaar multikey libraries read back to the same keys', async () => {
    const doc = didDocument(keys.published('credential'), publicUrl) as {
      verificationMethod: { id: string; publicKeyMultibase?: string }[];
    };
    for (const key of keys.published('credential')) {
      const ours = doc.verificationMethod.find((m) => m.id === verificationMethodId(publicUrl, key.kid));
      const library = key.alg === 'EdDSA' ? Ed25519Multikey : EcdsaMultikey;
      const pair = await library.fromJwk({ jwk: key.publicKey.export({ format: 'jwk' }) });
      expect(ours!.publicKeyMultibase).toBe(pair.publicKeyMultibase);
    }
  });

  it('publishes JWKS and jwt-vc-issuer metadata that verify JWS signed with the private keys', async () => {
    const metadata = jwtVcIssuerMetadata(publicUrl, keys);
    expect(metadata.issuer).toBe(publicUrl);
    expect(metadata.jwks).toEqual(credentialJwks(keys));
    expect(credentialJwks(keys).keys.map((k) => k.kid)).toEqual(
      keys.published('credential').map((k) => k.kid),
    );
    const cases = [
      ['credential', 'EdDSA', credentialJwks(keys)],
      ['credential', 'ES256', credentialJwks(keys)],
      ['oidc', 'RS256', oidcJwks(keys)],
      ['oidc', 'ES256', oidcJwks(keys)],
    ] as const;
    for (const [purpose, alg, jwks] of cases) {
      const key = keys.active(purpose, alg);
      const jws = await new CompactSign(new TextEncoder().encode('payload'))
        .setProtectedHeader({ alg, kid: key.kid })
        .sign(key.privateKey);
      const { payload } = await compactVerify(jws, createLocalJWKSet(jwks));
      expect(new TextDecoder().decode(payload)).toBe('payload');
      const published = jwks.keys.find((k) => k.kid === key.kid)!;
      expect(published).toMatchObject({ alg, use: 'sig' });
      await expect(compactVerify(jws, await importJWK(published, alg))).resolves.toBeDefined();
    }
  });

  it('never carries a private key member in any published document', () => {
    const documents = [
      didDocument(keys.published('credential'), publicUrl),
      credentialJwks(keys),
      oidcJwks(keys),
      jwtVcIssuerMetadata(publicUrl, keys),
      keys.published('credential'),
      keys.published('oidc'),
    ];
    for (const document of documents) {
      const names = jsonKeys(JSON.parse(JSON.stringify(document)));
      expect(names.filter((name) => PRIVATE_MEMBERS.includes(name))).toEqual([]);
    }
  });
});
