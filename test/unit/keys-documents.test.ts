import { createECDH, createPrivateKey, createPublicKey, sign as cryptoSign } from 'node:crypto';
import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import { Ed25519VerificationKey2020 } from '@digitalbazaar/ed25519-verification-key-2020';
import { CompactSign, compactVerify, createLocalJWKSet, importJWK } from 'jose';
import jsonld from 'jsonld';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDocumentLoader } from '../../src/credentials/jsonld/document-loader.ts';
import { base58btcDecode } from '../../src/crypto/multibase.ts';
import { decodeMultikey, publicKeyMultibase } from '../../src/crypto/multikey.ts';
import {
  credentialJwks,
  credentialJwksUrl,
  DID_CONTEXTS,
  didDocument,
  didDocumentUrl,
  didWebFromUrl,
  ed25519VerificationKey2020Id,
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

  it('lists every published credential key as a Multikey at #<kid> and a JWK at #<kid>-jwk, each Ed25519 key also as an Ed25519VerificationKey2020 at #<kid>-ed25519-2020', () => {
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
    const ed25519 = published.filter((key) => key.alg === 'EdDSA');
    expect(ed25519).toHaveLength(2);
    expect(doc.verificationMethod).toHaveLength(published.length * 2 + ed25519.length);
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
      const legacy = doc.verificationMethod.find(
        (m) => m.type === 'Ed25519VerificationKey2020' && String(m.id).includes(key.kid),
      );
      if (key.alg !== 'EdDSA') {
        expect(legacy).toBeUndefined();
        continue;
      }
      expect(ed25519VerificationKey2020Id(publicUrl, key.kid)).toBe(`${did}#${key.kid}-ed25519-2020`);
      expect(legacy).toEqual({
        id: `${did}#${key.kid}-ed25519-2020`,
        type: 'Ed25519VerificationKey2020',
        controller: did,
        publicKeyMultibase: publicKeyMultibase(key.publicJwk),
      });
      expect(doc.assertionMethod).toContain(`${did}#${key.kid}-ed25519-2020`);
    }
  });

  it('publishes Ed25519VerificationKey2020 keys the Digital Bazaar 2020 key library reads back to the same keys', async () => {
    const doc = didDocument(keys.published('credential'), publicUrl) as {
      verificationMethod: { id: string; type: string; controller: string; publicKeyMultibase: string }[];
    };
    const methods = doc.verificationMethod.filter((m) => m.type === 'Ed25519VerificationKey2020');
    expect(methods).toHaveLength(2);
    for (const method of methods) {
      const key = keys.published('credential').find((k) => method.id.endsWith(`#${k.kid}-ed25519-2020`))!;
      const pair = await Ed25519VerificationKey2020.from(method);
      // The raw 32 bytes after the ed25519-pub header are the key's JWK `x`.
      const raw = base58btcDecode(pair.publicKeyMultibase.slice(1));
      expect([...raw.slice(0, 2)]).toEqual([0xed, 0x01]);
      expect(Buffer.from(raw.slice(2)).toString('base64url')).toBe(key.publicJwk.x);
      const signature = cryptoSign(null, Buffer.from('data'), key.privateKey);
      const verifier = pair.verifier();
      expect(await verifier.verify({ data: Buffer.from('data'), signature })).toBe(true);
    }
  });

  it('expands its Multikey and Ed25519VerificationKey2020 methods as JSON-LD with the bundled contexts (no protected term clash)', async () => {
    const doc = didDocument(keys.published('credential'), publicUrl) as {
      '@context': string[];
      verificationMethod: { type: string }[];
    };
    // The JsonWebKey2020 context is not bundled (verifiers dereference one method at a time), so the
    // check covers the two contexts that both define publicKeyMultibase.
    const partial = {
      ...doc,
      '@context': doc['@context'].filter((c) => !c.includes('jws-2020')),
      verificationMethod: doc.verificationMethod.filter((m) => m.type !== 'JsonWebKey2020'),
    };
    const loader = createDocumentLoader({ publicUrl });
    const expanded = (await jsonld.expand(partial, {
      documentLoader: loader as never,
      safe: true,
    })) as Record<string, unknown>[];
    const methods = expanded[0]!['https://w3id.org/security#verificationMethod'] as Record<string, any>[];
    expect(methods.map((m) => m['@type'][0]).sort()).toEqual([
      'https://w3id.org/security#Ed25519VerificationKey2020',
      'https://w3id.org/security#Ed25519VerificationKey2020',
      'https://w3id.org/security#Multikey',
      'https://w3id.org/security#Multikey',
      'https://w3id.org/security#Multikey',
    ]);
    for (const m of methods) {
      expect(m['https://w3id.org/security#publicKeyMultibase'][0]['@type']).toBe(
        'https://w3id.org/security#multibase',
      );
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
