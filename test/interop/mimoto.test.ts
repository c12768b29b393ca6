import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { decodeProtectedHeader, type JWK, SignJWT } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import {
  admin,
  INVALID_CLIENT,
  obtainCode,
  startOidcApp,
  type TestClient,
} from '../protocol/oidc/helpers.ts';

/**
 * mimoto (mosip/mimoto, commit 784d67e484cd6daaa6f19becce0448061f8039d1), the backend Inji Wallet's
 * authorization-code flow goes through: the wallet gets the code in the browser and mimoto's token
 * proxy (`POST /get-token/{issuer}`, IdpController.java:116-123) redeems it with its own
 * private_key_jwt client. Replayed as its source builds the call:
 * - the token endpoint: the credential issuer's `authorization_servers[0]` (IssuersServiceImpl.java:92)
 *   + `/.well-known/oauth-authorization-server` (IssuerConfigUtil.java:79), its `token_endpoint`
 *   (IdpServiceImpl.java:72-74, :92);
 * - the assertion (JoseUtil.java:131-159): java-jwt with header {alg: RS256} (:133-134; java-jwt
 *   adds typ JWT, and no kid since the key has no id), iss = sub = client_id, aud = that token
 *   endpoint (:154, IdpServiceImpl.java:93), exp = now + 120 000 ms (:138), iat, jti a UUID (:157);
 * - the form (IdpServiceImpl.java:60-66): code, client_id, grant_type, redirect_uri,
 *   client_assertion, client_assertion_type, code_verifier (checked against
 *   `^[A-Za-z0-9\-._~]{43,128}$` first, :86).
 */
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
// src/main/resources/mimoto-issuers-config.json:19 client_id, :22 redirect_uri.
const REDIRECT_URI = 'io.mosip.residentapp.inji://oauthredirect';

describe('mimoto token proxy (mosip/mimoto 784d67e)', () => {
  let app: TestApp;
  let mimoto: TestClient;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

  /** JoseUtil.java:131-159 getJWT. */
  const mimotoAssertion = (clientId: string, audience: string, lifetimeMs = 120_000) => {
    const issuedAt = Math.floor(Date.now() / 1000);
    return new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(audience)
      .setExpirationTime(Math.floor((Date.now() + lifetimeMs) / 1000))
      .setIssuedAt(issuedAt)
      .sign(rsa.privateKey);
  };

  beforeAll(async () => {
    app = await startOidcApp({ overrides: { oidc: { esignetCompat: { enabled: true } } } });
    const clientId = `wallet-demo-${randomUUID().slice(0, 8)}`;
    const jwk = { ...(rsa.publicKey.export({ format: 'jwk' }) as JWK), alg: 'RS256', use: 'sig' };
    // Leniency-free defaults: mimoto's 120 s assertions fit the configured 300 s cap.
    await admin(app, 'POST', '/clients', {
      client_id: clientId,
      client_name: 'Inji Wallet (mimoto)',
      // The wallet's custom-scheme redirect: a native application (OpenID Connect Registration §2).
      application_type: 'native',
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [jwk] },
      allowed_claims: ['name', 'birthdate'],
    });
    // For the code only (the wallet's part, in the browser): PAR with an assertion of the same key.
    mimoto = {
      clientId,
      redirectUri: REDIRECT_URI,
      privateKey: rsa.privateKey as never,
      publicJwk: jwk,
      assertion: (aud) => mimotoAssertion(clientId, aud),
    };
  });
  afterAll(async () => app?.stop());

  /** IdpServiceImpl.java:54-69 constructGetTokenRequest and :94 postForObject. */
  const tokenCall = async (tokenEndpoint: string, assertion: string) => {
    const { code, verifier } = await obtainCode(app, mimoto);
    expect(verifier).toMatch(/^[A-Za-z0-9\-._~]{43,128}$/); // IdpServiceImpl.java:86
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'RS256', typ: 'JWT' });
    const form = new URLSearchParams();
    form.append('code', code);
    form.append('client_id', mimoto.clientId);
    form.append('grant_type', 'authorization_code');
    form.append('redirect_uri', REDIRECT_URI);
    form.append('client_assertion', assertion.replace('[', '').replace(']', '')); // IdpServiceImpl.java:64
    form.append('client_assertion_type', ASSERTION_TYPE);
    form.append('code_verifier', verifier);
    const response = await request(tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
  };

  test('the token endpoint from our metadata, with aud = that URL and a 120 s lifetime', async () => {
    const issuerMetadata = (await (
      await request(`${app.url}/.well-known/openid-credential-issuer`)
    ).body.json()) as { authorization_servers: string[] };
    const asMetadata = (await (
      await request(`${issuerMetadata.authorization_servers[0]}/.well-known/oauth-authorization-server`)
    ).body.json()) as { token_endpoint: string };
    const tokenEndpoint = asMetadata.token_endpoint;
    expect(tokenEndpoint).toBe(`${app.url}/token`);
    const result = await tokenCall(tokenEndpoint, await mimotoAssertion(mimoto.clientId, tokenEndpoint));
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });
  });

  test("at eSignet's v2 token path, as mimoto's issuer configuration names it (authorization_audience, proxy_token_endpoint)", async () => {
    // src/main/resources/mimoto-issuers-config.json:23 authorization_audience and :25
    // proxy_token_endpoint: `<eSignet>/v1/esignet/oauth/v2/token`; here `<issuer>/v1/esignet/oauth/v2/token`.
    const v2 = `${app.url}/v1/esignet/oauth/v2/token`;
    const result = await tokenCall(v2, await mimotoAssertion(mimoto.clientId, v2));
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });
  });

  test('the same call with an assertion for another server, or one living 10 minutes, is invalid_client', async () => {
    const tokenEndpoint = `${app.url}/token`;
    for (const assertion of [
      await mimotoAssertion(mimoto.clientId, 'https://esignet.collab.mosip.net/v1/esignet/oauth/v2/token'),
      await mimotoAssertion(mimoto.clientId, tokenEndpoint, 600_000),
    ]) {
      const result = await tokenCall(tokenEndpoint, assertion);
      expect(result.status).toBe(401);
      expect(result.body).toEqual(INVALID_CLIENT);
    }
  });
});
