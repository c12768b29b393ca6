import { generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, importJWK, type JWK, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createJwtVcFormat } from '../../src/credentials/formats/jwt-vc.ts';
import type { CredentialFormat, IssueRequest } from '../../src/credentials/formats/types.ts';
import { credentialJwks, didDocument } from '../../src/keys/documents.ts';
import type { KeyStore } from '../../src/keys/spi.ts';
import { type CredentialDeps, credentialDeps, START } from '../helpers/credential-deps.ts';

/**
 * A verifier that knows only what the service publishes: the `kid` DID URL must be an assertion
 * method of the did:web document, and its fragment names the key in the credential JWKS. It checks
 * `nbf`/`exp` at the issuer's test instant (the credentials below are dated in November 2026).
 */
async function verifyWithPublishedKeys(jwt: string, publicUrl: string, keys: KeyStore) {
  const doc = didDocument(keys.published('credential'), publicUrl) as { assertionMethod: string[] };
  const jwks = credentialJwks(keys);
  const key = async (header: { kid?: string; alg?: string }) => {
    if (!header.kid || !doc.assertionMethod.includes(header.kid))
      throw new Error(`kid ${header.kid} not in DID document`);
    const jwk = jwks.keys.find((key) => key.kid === header.kid!.split('#')[1]);
    if (!jwk) throw new Error(`no JWK for ${header.kid}`);
    return importJWK(jwk, header.alg);
  };
  return jwtVerify(jwt, key, { currentDate: new Date(START) });
}

const holderJwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
  format: 'jwk',
}) as JWK;

const request = (alg: 'ES256' | 'EdDSA'): IssueRequest => ({
  profile: { configurationId: 'NationalId_jwt', types: ['NationalIdCredential'], contexts: [], alg },
  claims: { given_name: 'Ava', family_name: 'Jöns', address: { locality: 'Nairobi' } },
  holder: { jwk: holderJwk },
  status: [
    {
      kind: 'bitstring',
      purpose: 'revocation',
      listCredentialUrl: 'https://issuer.example:8443/vc/status/bitstring/abc',
      index: 94567,
    },
  ],
  validFrom: new Date('2026-11-05T10:00:00Z'),
  validUntil: new Date('2027-11-05T10:00:00Z'),
});

describe('jwt_vc_json format', () => {
  let deps: CredentialDeps;
  let format: CredentialFormat;
  beforeAll(async () => {
    deps = await credentialDeps();
    format = createJwtVcFormat(deps);
  });

  for (const alg of ['ES256', 'EdDSA'] as const) {
    it(`issues a ${alg} VC-JWT that jose verifies with the key from the DID document`, async () => {
      const jwt = (await format.issue(request(alg))) as string;
      const header = decodeProtectedHeader(jwt);
      const did = 'did:web:issuer.example%3A8443:vc';
      expect(header).toEqual({ alg, typ: 'JWT', kid: `${did}#${deps.keys.active('credential', alg).kid}` });

      const { payload } = await verifyWithPublishedKeys(jwt, deps.publicUrl, deps.keys);
      expect(payload.iss).toBe(did);
      expect(payload.sub).toMatch(/^did:jwk:/);
      expect(JSON.parse(Buffer.from(String(payload.sub).slice(8), 'base64url').toString())).toEqual({
        kty: 'EC',
        crv: 'P-256',
        x: holderJwk.x,
        y: holderJwk.y,
      });
      expect(payload.nbf).toBe(Date.parse('2026-11-05T10:00:00Z') / 1000);
      expect(payload.exp).toBe(Date.parse('2027-11-05T10:00:00Z') / 1000);
      expect(payload.jti).toBeUndefined();
      expect(payload.vc).toEqual({
        '@context': ['https://www.w3.org/2018/credentials/v1'],
        type: ['VerifiableCredential', 'NationalIdCredential'],
        credentialSubject: { given_name: 'Ava', family_name: 'Jöns', address: { locality: 'Nairobi' } },
        credentialStatus: {
          id: 'https://issuer.example:8443/vc/status/bitstring/abc#94567',
          type: 'BitstringStatusListEntry',
          statusPurpose: 'revocation',
          statusListIndex: '94567',
          statusListCredential: 'https://issuer.example:8443/vc/status/bitstring/abc',
        },
      });
    });
  }

  it('uses the holder DID as subject when the wallet proved with one, and jti when an id is given', async () => {
    const jwt = (await format.issue({
      ...request('ES256'),
      holder: { jwk: holderJwk, did: 'did:key:z6MkExample' },
      credentialId: 'urn:uuid:5b1f5f0e-0000-4000-8000-000000000001',
    })) as string;
    const { payload } = await verifyWithPublishedKeys(jwt, deps.publicUrl, deps.keys);
    expect(payload.sub).toBe('did:key:z6MkExample');
    expect(payload.jti).toBe('urn:uuid:5b1f5f0e-0000-4000-8000-000000000001');
  });

  it('still verifies after the credential keys rotate, and signs new credentials with the new key', async () => {
    const before = (await format.issue(request('EdDSA'))) as string;
    const oldKid = deps.keys.active('credential', 'EdDSA').kid;
    await deps.keys.rotate('credential', 'EdDSA');
    const after = (await format.issue(request('EdDSA'))) as string;
    await expect(verifyWithPublishedKeys(before, deps.publicUrl, deps.keys)).resolves.toBeDefined();
    await expect(verifyWithPublishedKeys(after, deps.publicUrl, deps.keys)).resolves.toBeDefined();
    expect(decodeProtectedHeader(after).kid).not.toContain(oldKid);
  });

  it('refuses a token status entry (those belong to SD-JWT VC and mdoc)', async () => {
    await expect(
      format.issue({
        ...request('ES256'),
        status: [{ kind: 'token', uri: 'https://x/status/token/1', idx: 3 }],
      }),
    ).rejects.toThrow(/bitstring/);
  });
});
