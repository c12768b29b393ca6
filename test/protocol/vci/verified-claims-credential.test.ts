import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORDS } from '../oidc/verified-claims-fixture.ts';
import { holderKey, preAuthorizedCode, proofJwt, startVci, type VciHarness } from './harness.ts';

/**
 * A credential configuration maps how the claims were verified (OpenID Connect for Identity
 * Assurance 1.0 verification records of the identity system) into the credential: sources
 * `verification.assurance_level`, `verification.trust_framework`, `verification.time` read the
 * record that verifies the claims the credential uses.
 */
describe('credential claims from the verification of the identity claims', () => {
  let h: VciHarness;
  const definition = {
    id: 'verified-id',
    scope: 'verified_id',
    types: ['VerifiedIdCredential'],
    contexts: [],
    status: false,
    schema: 'verified-identity.schema.json',
    binding: { methods: ['jwk'], proofSigningAlgs: ['ES256'] },
    formats: {
      'dc+sd-jwt': {
        configurationId: 'VerifiedIdCredential_sd_jwt',
        alg: 'ES256',
        vct: 'https://issuer.example.org/vct/verified-id',
      },
    },
    display: [{ name: 'Verified identity', locale: 'en' }],
    claims: [
      { path: ['fullName'], source: 'name', mandatory: true },
      { path: ['birthdate'], source: 'birthdate' },
      { path: ['assuranceLevel'], source: 'verification.assurance_level', mandatory: true },
      { path: ['trustFramework'], source: 'verification.trust_framework', mandatory: true },
      { path: ['verifiedAt'], source: 'verification.time' },
    ],
  };

  beforeAll(async () => {
    h = await startVci();
    const created = await h.admin('POST', '/credential-configurations', definition);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
  });
  afterAll(() => h.stop());

  async function issue(individualId: string) {
    const offer = await h.offer(['VerifiedIdCredential_sd_jwt'], individualId);
    const token = (await h.token(preAuthorizedCode(offer))).body.access_token;
    const key = await holderKey('ES256');
    return h.post(
      '/credential',
      {
        credential_configuration_id: 'VerifiedIdCredential_sd_jwt',
        proofs: {
          jwt: [await proofJwt(key, h.url, await h.nonce(), { iat: Math.floor(h.app.clock.now() / 1000) })],
        },
      },
      { authorization: `Bearer ${token}` },
    );
  }

  /** Every claim of an SD-JWT: the payload's plain members and the disclosed ones. */
  function subjectOf(sdJwt: string): Record<string, unknown> {
    const [jwt, ...disclosures] = sdJwt.split('~').filter(Boolean);
    const claims: Record<string, unknown> = { ...decodeJwt(jwt!) };
    for (const d of disclosures) {
      const decoded = JSON.parse(Buffer.from(d, 'base64url').toString('utf8'));
      if (Array.isArray(decoded) && decoded.length === 3) claims[decoded[1]] = decoded[2];
    }
    return claims;
  }

  it('issues the assurance level, trust framework and time of the record that verifies the name', async () => {
    const individualId = '5550007799';
    await h.admin('POST', '/identities', {
      individual_id: individualId,
      claims: { name: 'Layla Mansour', birthdate: '1988-02-29', email: 'layla@example.org' },
      verification: RECORDS,
    });
    const res = await issue(individualId);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const subject = subjectOf(res.body.credentials[0].credential);
    expect(subject.fullName).toBe('Layla Mansour');
    // RECORDS[0] (eidas, high) covers name and birthdate; RECORDS[2] (XYZ TF) only the name.
    expect(subject.assuranceLevel).toBe('high');
    expect(subject.trustFramework).toBe('eidas');
    expect(subject.verifiedAt).toBe('2024-05-01T10:00:00Z');
  });

  it('refuses the credential when no verification record covers its claims (the mapping is mandatory)', async () => {
    const individualId = '5550007800';
    await h.admin('POST', '/identities', {
      individual_id: individualId,
      claims: { name: 'Omar Khalil', birthdate: '1985-11-03' },
    });
    const res = await issue(individualId);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('credential_request_denied');
  });
});
