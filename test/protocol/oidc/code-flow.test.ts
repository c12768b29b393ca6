import { decodeJwt } from 'jose';
import { request } from 'undici';
import { describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import { obtainCode, redeem, type TestClient, useAppAndClient } from './helpers.ts';

describe('authorization code flow through the JSON interaction API', () => {
  let app: TestApp;
  let client: TestClient;
  useAppAndClient((started) => ({ app, client } = started));

  test('PIN login with consent yields an ID token with acr, amr, auth_time and a userinfo JWT with the consented claims', async () => {
    const { code, verifier, nonce, callback } = await obtainCode(app, client, {
      acr_values: 'mosip:idp:acr:static-code',
      claims: { userinfo: { name: { essential: true }, birthdate: null } },
    });
    expect(callback.searchParams.get('iss')).toBe(app.url);
    const token = await redeem(app, client, code, verifier);
    expect(token.status).toBe(200);
    expect(token.headers['cache-control']).toBe('no-store');
    const idToken = decodeJwt(token.body.id_token);
    expect(idToken.nonce).toBe(nonce);
    expect(idToken.acr).toBe('mosip:idp:acr:static-code');
    expect(idToken.amr).toEqual(['pin']);
    expect(typeof idToken.auth_time).toBe('number');
    const userinfo = await request(`${app.url}/userinfo`, {
      headers: { authorization: `Bearer ${token.body.access_token}` },
    });
    expect(userinfo.statusCode).toBe(200);
    expect(userinfo.headers['content-type']).toContain('application/jwt');
    const claims = decodeJwt(await userinfo.body.text());
    expect(claims.sub).toBe(idToken.sub);
    expect(claims.name).toBe('Layla Mansour');
    expect(claims.birthdate).toBe('1988-02-29');
    // profile scope implies gender, but the person consented to everything offered and the client may get it
    expect(claims.email).toBeUndefined();
  });
});

describe('claims_locales', () => {
  let app: TestApp;
  let client: TestClient;
  useAppAndClient((started) => ({ app, client } = started));

  test('claims_locales=ar releases the Arabic name, only for consented claims', async () => {
    const { code, verifier } = await obtainCode(app, client, {
      scope: 'openid profile',
      claims: { userinfo: { name: { essential: true } } },
      extra: { claims_locales: 'ar' },
    });
    const token = await redeem(app, client, code, verifier);
    const userinfo = await request(`${app.url}/userinfo`, {
      headers: { authorization: `Bearer ${token.body.access_token}` },
    });
    const claims = decodeJwt(await userinfo.body.text());
    // The identity system answers in the requested language (untagged, or as name#ar beside it).
    expect([claims.name, claims['name#ar']]).toContain('ليلى منصور');
    expect(claims.email).toBeUndefined();
  });
});

describe('identity system failure', () => {
  let app: TestApp;
  let client: TestClient;
  useAppAndClient((started) => ({ app, client } = started));

  test('when the claims cannot be released the token request fails closed with invalid_grant, not fewer claims', async () => {
    const { code, verifier } = await obtainCode(app, client, {
      claims: { userinfo: { name: { essential: true } } },
    });
    const registry = app.running.parts.kyc.identitySystems;
    const original = registry.get.bind(registry);
    registry.get = (name: string) => ({
      ...original(name),
      exchangeKyc: async () => {
        throw new Error('registry unreachable');
      },
    });
    try {
      const token = await redeem(app, client, code, verifier);
      expect(token.status).toBe(400);
      // RFC 6749 §5.2: the grant cannot be completed (the registry did not answer) -> invalid_grant.
      expect(token.body).toEqual({ error: 'invalid_grant', error_description: 'grant request is invalid' });
    } finally {
      registry.get = original;
    }
  });
});
