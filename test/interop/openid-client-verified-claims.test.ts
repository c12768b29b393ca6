import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { IDENTITY, startOidcApp, type TestClient } from '../protocol/oidc/helpers.ts';
import {
  createVerifiedPerson,
  RECORDS,
  VERIFIED_ALLOWED,
  VERIFIED_PERSON,
} from '../protocol/oidc/verified-claims-fixture.ts';
import { openidClientLogin, openidClientRp } from './openid-client-rp.ts';

/**
 * openid-client v6 as the relying party asking for verified claims (OpenID Connect for Identity
 * Assurance 1.0) in the claims parameter, through PAR with private_key_jwt: the ID token (validated
 * by openid-client) and the signed userinfo (validated by openid-client) carry exactly the consented
 * verified claims with their verification data.
 */
describe('openid-client v6 with verified_claims', () => {
  let app: TestApp;
  let rp: TestClient;
  let config: oidc.Configuration;

  beforeAll(async () => {
    app = await startOidcApp();
    await createVerifiedPerson(app);
    ({ rp, config } = await openidClientRp(app, {
      allowed_claims: VERIFIED_ALLOWED,
      require_pushed_authorization_requests: true,
    }));
  });
  afterAll(async () => app.stop());

  async function login(claims: unknown, accept?: string[]) {
    const { tokens } = await openidClientLogin(
      app,
      config,
      rp,
      { scope: 'openid', claims: JSON.stringify(claims) },
      { factor: 'pin', individualId: VERIFIED_PERSON, ...(accept ? { accept } : {}) },
    );
    const idClaims = tokens.claims()!;
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
    return { idClaims, userinfo };
  }

  test('object form in the ID token and userinfo, essential and purpose: the verified claims with their verification data', async () => {
    const { idClaims, userinfo } = await login({
      id_token: {
        verified_claims: {
          verification: { trust_framework: { value: 'eidas' }, assurance_level: null, time: null },
          claims: { birthdate: { essential: true, purpose: 'To check you are of age' } },
        },
      },
      userinfo: {
        verified_claims: {
          verification: { trust_framework: null, evidence: null, verification_process: null },
          claims: { given_name: null, family_name: { essential: true } },
        },
      },
    });
    expect(idClaims.verified_claims).toEqual({
      verification: { trust_framework: 'eidas', assurance_level: 'high', time: '2024-05-01T10:00:00Z' },
      claims: { birthdate: IDENTITY.claims.birthdate },
    });
    expect(userinfo.verified_claims).toEqual({
      verification: {
        trust_framework: 'eidas',
        evidence: RECORDS[0]!.verification.evidence,
        verification_process: RECORDS[0]!.verification.verification_process,
      },
      claims: { given_name: IDENTITY.claims.given_name, family_name: IDENTITY.claims.family_name },
    });
    // Asked for only as verified claims: not released as plain ones.
    expect(userinfo.given_name).toBeUndefined();
    expect(idClaims.birthdate).toBeUndefined();
  });

  test('array form at userinfo: only what the person accepted, an unmet trust framework left out', async () => {
    const { idClaims, userinfo } = await login(
      {
        userinfo: {
          verified_claims: [
            {
              verification: { trust_framework: { values: ['eidas', 'de_aml'] }, assurance_level: null },
              claims: {
                name: { essential: true, purpose: 'To open your account in your legal name' },
                birthdate: null,
              },
            },
            {
              verification: { trust_framework: { value: 'de_aml' } },
              claims: { address: null, phone_number: null },
            },
            { verification: { trust_framework: { value: 'gold_tf' } }, claims: { given_name: null } },
          ],
        },
      },
      // name is essential; of the voluntary ones the person accepts only the address.
      ['name', 'address'],
    );
    expect(userinfo.verified_claims).toEqual([
      {
        verification: { trust_framework: 'eidas', assurance_level: 'high' },
        claims: { name: IDENTITY.claims.name },
      },
      { verification: { trust_framework: 'de_aml' }, claims: { address: IDENTITY.claims.address } },
    ]);
    expect(idClaims.verified_claims).toBeUndefined();
    for (const claim of ['name', 'address', 'birthdate', 'phone_number', 'given_name'])
      expect(userinfo[claim]).toBeUndefined();
  });
});
