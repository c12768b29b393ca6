import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLdpVc } from '../../interop/verifiers.ts';
import { burst, holderKey, preAuthorizedCode, proofJwt, startVci, type VciHarness } from './harness.ts';

const NATIONAL = 'NationalIdCredential_ldp_vc';
const AGE = 'AgeCredential_ldp_vc';
// Token endpoint errors for the pre-authorized code grant (RFC 6749 §5.2, OpenID4VCI 1.0 §6.3).
const BAD_CODE = {
  error: 'invalid_grant',
  error_description: 'the pre-authorized code is invalid, expired or already used',
};
const WRONG_TX_CODE = { error: 'invalid_grant', error_description: 'the tx_code is wrong' };
const NO_TX_CODE = {
  error: 'invalid_request',
  error_description: 'tx_code is required for this pre-authorized code',
};

describe('pre-authorized code flow and offers (SECURITY.md rows 24, 39)', () => {
  let h: VciHarness;
  beforeAll(async () => {
    h = await startVci();
  });
  afterAll(() => h.stop());

  it('issues a verifiable ldp_vc from an offer with a tx_code', async () => {
    const who = await h.person();
    const offer = await h.offer([NATIONAL, AGE], who.individualId, true);
    const code = preAuthorizedCode(offer);
    const token = await h.token(code, await h.txCode(who.email));
    expect(token.status).toBe(200);
    const key = await holderKey('EdDSA');
    const res = await h.post(
      '/credential',
      {
        credential_configuration_id: NATIONAL,
        proofs: { jwt: [await proofJwt(key, h.url, await h.nonce(), { binding: 'did:key' })] },
      },
      { authorization: `Bearer ${token.body.access_token}` },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.notification_id).toEqual(expect.any(String));
    const vc = res.body.credentials[0].credential;
    expect(vc.credentialSubject).toMatchObject({
      id: key.did,
      givenName: 'Layla',
      familyName: 'Mansour',
      birthdate: '1994-07-21',
    });
    expect(vc.credentialSubject.localizedName).toEqual({ en: 'Layla Mansour', ar: 'ليلى منصور' });
    expect(vc.credentialSubject.address).toEqual({
      streetAddress: '3 Avenue Hassan II',
      locality: 'Rabat',
      postalCode: '10000',
      country: 'MA',
    });
    expect(await verifyLdpVc(vc, h.url, new Date(h.app.clock.now()))).toMatchObject({
      verified: true,
      revoked: false,
    });

    // The same token also gets the second credential of the offer.
    const age = await h.post(
      '/credential',
      { credential_configuration_id: AGE, proofs: { jwt: [await proofJwt(key, h.url, await h.nonce())] } },
      { authorization: `Bearer ${token.body.access_token}` },
    );
    expect(age.status).toBe(200);
    expect(age.body.credentials[0].credential.credentialSubject).toMatchObject({
      ageOver18: true,
      ageOver21: true,
    });
    expect(age.body.credentials[0].credential.credentialSubject.birthdate).toBeUndefined();
  });

  it('keeps PII and the tx_code out of the offer; offer links are unguessable and served once', async () => {
    const who = await h.person();
    const offer = await h.offer([NATIONAL], who.individualId, true);
    const text = JSON.stringify(offer.credential_offer);
    const txCode = await h.txCode(who.email);
    for (const secret of [who.individualId, who.email, 'Layla', 'Mansour', '1994', txCode])
      expect(text).not.toContain(secret);
    expect(JSON.stringify(offer)).not.toContain(txCode);
    const grant = offer.credential_offer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code'];
    expect(grant.tx_code).toEqual({ input_mode: 'numeric', length: 6, description: expect.any(String) });
    expect(Buffer.from(grant['pre-authorized_code'], 'base64url').length).toBeGreaterThanOrEqual(16);
    const id = offer.credential_offer_uri.split('/').pop();
    expect(Buffer.from(id, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(offer.credential_offer_uri_url).toBe(
      `openid-credential-offer://?credential_offer_uri=${encodeURIComponent(offer.credential_offer_uri)}`,
    );
    expect(offer.credential_offer_url.startsWith('openid-credential-offer://?credential_offer=')).toBe(true);
    expect(offer.qr_svg).toMatch(/^<svg/);

    const path = new URL(offer.credential_offer_uri).pathname;
    const first = await fetch(`${h.url}${path}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(await first.json()).toEqual(offer.credential_offer);
    expect((await fetch(`${h.url}${path}`)).status).toBe(404);

    const late = await h.offer([NATIONAL], who.individualId);
    h.app.clock.advanceSeconds(601);
    expect((await fetch(`${h.url}${new URL(late.credential_offer_uri).pathname}`)).status).toBe(404);
    const code = preAuthorizedCode(late);
    // RFC 6749 §5.2, OpenID4VCI 1.0 §6.3: an expired pre-authorized code is invalid_grant.
    expect(await h.token(code)).toEqual({ status: 400, body: BAD_CODE });
  });

  it('counts wrong tx_codes, invalidates the code at the limit, and a missing tx_code consumes nothing', async () => {
    const who = await h.person();
    const offer = await h.offer([NATIONAL], who.individualId, true);
    const code = preAuthorizedCode(offer);
    const right = await h.txCode(who.email);
    const wrong = right === '000000' ? '111111' : '000000';
    // OpenID4VCI 1.0 §6.3: a missing tx_code is invalid_request, a wrong one invalid_grant.
    expect(await h.token(code)).toEqual({ status: 400, body: NO_TX_CODE });
    expect(await h.token(code)).toEqual({ status: 400, body: NO_TX_CODE });
    expect(await h.token(code, wrong)).toEqual({ status: 400, body: WRONG_TX_CODE });
    expect(await h.token(code, wrong)).toEqual({ status: 400, body: WRONG_TX_CODE });
    expect(await h.token(code, wrong)).toEqual({ status: 400, body: WRONG_TX_CODE });
    // The limit (3) is reached: the right tx_code fails too.
    expect(await h.token(code, right)).toEqual({ status: 400, body: BAD_CODE });
  });

  it('accepts the right tx_code after fewer wrong ones than the limit, once', async () => {
    const who = await h.person();
    const offer = await h.offer([NATIONAL], who.individualId, true);
    const code = preAuthorizedCode(offer);
    const right = await h.txCode(who.email);
    expect(await h.token(code, right === '999999' ? '888888' : '999999')).toEqual({
      status: 400,
      body: WRONG_TX_CODE,
    });
    expect((await h.token(code, right)).status).toBe(200);
    expect(await h.token(code, right)).toEqual({ status: 400, body: BAD_CODE });
  });

  it('lets at most the limit of a 100-way parallel tx_code guess burst be checked, and none succeed', async () => {
    const who = await h.person();
    const offer = await h.offer([NATIONAL], who.individualId, true);
    const code = preAuthorizedCode(offer);
    const right = await h.txCode(who.email);
    const guesses = Array.from({ length: 100 }, (_, i) => String(i).padStart(6, '0')).filter(
      (g) => g !== right,
    );
    const results = await burst(guesses.length, (i) => h.token(code, guesses[i]));
    for (const r of results) expect(r.status).toBe(400);
    for (const r of results) expect([WRONG_TX_CODE, BAD_CODE]).toContainEqual(r.body);
    expect(
      await h.app.services.store.counter(
        `vci_tx_code:${(await import('node:crypto')).createHash('sha256').update(code).digest('base64url')}`,
      ),
    ).toBeLessThanOrEqual(3);
    expect(await h.token(code, right)).toEqual({ status: 400, body: BAD_CODE });
  });

  it('redeems a pre-authorized code exactly once under 20 parallel redemptions', async () => {
    const who = await h.person();
    const offer = await h.offer([NATIONAL], who.individualId, false);
    const code = preAuthorizedCode(offer);
    const results = await burst(20, () => h.token(code));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const refused = results.filter((r) => r.status !== 200);
    expect(refused).toHaveLength(19);
    for (const r of refused) expect(r).toEqual({ status: 400, body: BAD_CODE });
  });

  it('rejects offers for unknown configurations or people without revealing the individual ID', async () => {
    const res = await h.admin('POST', '/credential-offers', {
      credential_configuration_ids: ['nope'],
      individual_id: '1',
    });
    expect(res.status).toBe(400);
    const unknown = await h.admin('POST', '/credential-offers', {
      credential_configuration_ids: [NATIONAL],
      individual_id: '9999999999999',
    });
    expect(unknown.status).toBe(404);
    expect(JSON.stringify(unknown.body)).not.toContain('9999999999999');
    const noAuth = await h.post('/admin/credential-offers', {
      credential_configuration_ids: [NATIONAL],
      individual_id: '1',
    });
    expect(noAuth.status).toBe(401);
  });
});

describe('authorization-code offers (OpenID4VCI 1.0 §4.1.1)', () => {
  let h: VciHarness;
  beforeAll(async () => {
    h = await startVci();
  });
  afterAll(() => h.stop());

  it('carry an issuer_state the provider can resolve, no pre-authorized code and no PII', async () => {
    const who = await h.person();
    const res = await h.admin('POST', '/credential-offers', {
      credential_configuration_ids: [AGE],
      individual_id: who.individualId,
      grant: 'authorization_code',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const offer = res.body.credential_offer;
    expect(Object.keys(offer.grants)).toEqual(['authorization_code']);
    const issuerState: string = offer.grants.authorization_code.issuer_state;
    expect(Buffer.from(issuerState, 'base64url').length).toBeGreaterThanOrEqual(32);
    expect(JSON.stringify(offer)).not.toContain(who.individualId);
    const resolved = await h.app.running.parts.grants.issuerStates.resolve(issuerState);
    expect(resolved).toEqual({
      credentialConfigurationIds: [AGE],
      accountId: who.accountId,
      identitySystem: 'mock',
    });
    expect(await h.app.running.parts.grants.issuerStates.resolve('forged')).toBeUndefined();
    h.app.clock.advanceSeconds(601);
    expect(await h.app.running.parts.grants.issuerStates.resolve(issuerState)).toBeUndefined();
  });
});
