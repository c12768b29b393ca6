import * as oidc from 'openid-client';
import { expect } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { Browser, loginWithApi, registerClient, type TestClient } from '../protocol/oidc/helpers.ts';

/**
 * openid-client v6 as the suites drive it: a client registered through the admin API
 * (private_key_jwt, ES256 userinfo JWTs), discovery, and one login through PAR + PKCE and the JSON
 * interaction API up to a validated token response.
 */

export async function openidClientRp(
  app: TestApp,
  metadata: Record<string, unknown>,
): Promise<{ rp: TestClient; config: oidc.Configuration }> {
  const rp = await registerClient(app, {
    ...metadata,
    userinfo_signed_response_alg: 'ES256',
    token_endpoint_auth_signing_alg: 'ES256',
  });
  const config = await oidc.discovery(
    new URL(app.url),
    rp.clientId,
    { userinfo_signed_response_alg: 'ES256', id_token_signed_response_alg: 'RS256' },
    oidc.PrivateKeyJwt({ key: rp.privateKey, kid: 'k1' }),
    { execute: [oidc.allowInsecureRequests] },
  );
  return { rp, config };
}

/** PAR with `params`, login with `factor`, consent, and the code grant (state, nonce, PKCE checked). */
export async function openidClientLogin(
  app: TestApp,
  config: oidc.Configuration,
  rp: TestClient,
  params: Record<string, string>,
  login: { factor: 'otp' | 'pin'; individualId?: string; accept?: string[] },
): Promise<{ tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>; browser: Browser }> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = await oidc.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: rp.redirectUri,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  const browser = new Browser(new URL(app.url).origin);
  const start = await browser.fetch(url.href);
  expect(start.status).toBe(303);
  const { factor, ...options } = login;
  const callback = await loginWithApi(app, browser, start.location!, factor, options);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  return { tokens, browser };
}
