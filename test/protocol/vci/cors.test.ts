import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holderKey, proofJwt, startVci, type VciHarness } from './harness.ts';

/**
 * Browser wallets (issue 10, item 6): the issuer's POST endpoints answer a CORS preflight and their
 * responses, errors included, are readable from any origin, as the metadata already is. Access
 * tokens are sent explicitly (Authorization, DPoP), never as cookies, so `*` without credentials
 * mode is the policy (Fetch standard, CORS protocol: https://fetch.spec.whatwg.org/#http-cors-protocol).
 */
const ORIGIN = 'https://wallet.example';
const ENDPOINTS = ['/nonce', '/credential', '/deferred_credential', '/notification'];

describe('CORS for browser wallets', () => {
  let h: VciHarness;
  beforeAll(async () => {
    h = await startVci();
  });
  afterAll(() => h.stop());

  const list = (value: unknown) =>
    String(value ?? '')
      .split(',')
      .map((v) => v.trim().toLowerCase())
      .filter(Boolean);

  for (const path of ENDPOINTS) {
    it(`answers a preflight for POST ${path} with Authorization, DPoP and Content-Type allowed`, async () => {
      const res = await request(`${h.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin: ORIGIN,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,dpop,content-type',
        },
      });
      await res.body.text();
      expect(res.statusCode).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(list(res.headers['access-control-allow-methods'])).toContain('post');
      expect(list(res.headers['access-control-allow-headers'])).toEqual(
        expect.arrayContaining(['authorization', 'dpop', 'content-type']),
      );
      expect(Number(res.headers['access-control-max-age'])).toBeGreaterThan(0);
    });

    it(`lets a page read the answer of POST ${path}, errors included`, async () => {
      const res = await h.post(path, {}, { origin: ORIGIN, authorization: 'Bearer not-a-token' });
      expect(res.status).toBeLessThan(500);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(list(res.headers['access-control-expose-headers'])).toEqual(
        expect.arrayContaining(['www-authenticate', 'dpop-nonce']),
      );
    });
  }

  it('lets a page read an issued credential', async () => {
    const who = await h.person();
    const token = h.mintToken({
      accountId: who.accountId,
      credentialConfigurationIds: ['AgeCredential_ldp_vc'],
      consentedClaims: ['birthdate'],
    });
    const nonce = await h.post('/nonce', undefined, { origin: ORIGIN });
    expect(nonce.headers['access-control-allow-origin']).toBe('*');
    const res = await h.post(
      '/credential',
      {
        credential_configuration_id: 'AgeCredential_ldp_vc',
        proofs: { jwt: [await proofJwt(await holderKey(), h.url, nonce.body.c_nonce)] },
      },
      { origin: ORIGIN, authorization: `Bearer ${token}` },
    );
    expect(res.status, res.text).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });
});
