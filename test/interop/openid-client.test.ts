import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { startOidcApp, type TestClient } from '../protocol/oidc/helpers.ts';
import { openidClientLogin, openidClientRp } from './openid-client-rp.ts';

/**
 * openid-client v6 as a strict relying party: PAR + PKCE + private_key_jwt, login with an OTP read
 * from the outbox, consent, token, a userinfo JWT verified against the published JWKS, refresh,
 * RP-initiated logout.
 */
describe('openid-client v6 relying party', () => {
  let app: TestApp;
  let rp: TestClient;
  let config: oidc.Configuration;
  const postLogout = 'https://rp.example.org/logged-out';

  beforeAll(async () => {
    app = await startOidcApp();
    ({ rp, config } = await openidClientRp(app, {
      grant_types: ['authorization_code', 'refresh_token'],
      require_pushed_authorization_requests: true,
      post_logout_redirect_uris: [postLogout],
    }));
  });
  afterAll(async () => app.stop());

  test('logs in with an OTP, gets tokens, a verified userinfo JWT, refreshes and logs out', async () => {
    const { tokens, browser } = await openidClientLogin(
      app,
      config,
      rp,
      {
        scope: 'openid profile email',
        acr_values: 'mosip:idp:acr:generated-code',
        claims: JSON.stringify({ userinfo: { name: { essential: true }, email: null } }),
      },
      { factor: 'otp' },
    );
    const idClaims = tokens.claims()!;
    expect(idClaims.acr).toBe('mosip:idp:acr:generated-code');
    expect(idClaims.amr).toEqual(['otp']);
    expect(tokens.refresh_token).toBeTruthy();

    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
    expect(userinfo.name).toBe('Layla Mansour');
    expect(userinfo.email).toBe('layla.mansour@example.org');

    // The raw userinfo JWT verifies against the published JWKS.
    const raw = await request(`${app.url}/userinfo`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    const jwt = await raw.body.text();
    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    const verified = await jwtVerify(jwt, jwks, { issuer: app.url, audience: rp.clientId });
    expect(verified.payload.sub).toBe(idClaims.sub);
    expect(verified.protectedHeader.alg).toBe('ES256');

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    const logoutUrl = oidc.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: postLogout,
    });
    const confirm = await browser.fetch(logoutUrl.href);
    expect(confirm.status).toBe(200);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.text)?.[1];
    expect(xsrf).toBeTruthy();
    const action =
      /<form[^>]*id="op.logoutForm"[^>]*action="([^"]+)"/.exec(confirm.text)?.[1] ??
      /<form[^>]*action="([^"]+)"[^>]*id="op.logoutForm"/.exec(confirm.text)?.[1];
    const done = await browser.fetch(new URL(action!, app.url).href, {
      form: { xsrf: xsrf!, logout: 'yes' },
    });
    expect(done.status).toBe(303);
    expect(done.location?.startsWith(postLogout)).toBe(true);
    // The session is gone, and so are the tokens bound to it.
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toThrow();
  });
});
