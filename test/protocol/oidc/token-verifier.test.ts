import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InvalidGrant } from '../../../src/errors.ts';
import type { PreAuthorizedCodeRedeemer, TokenVerifier } from '../../../src/oidc/bridge.ts';
import type { TestApp } from '../../helpers/app.ts';
import { burst, statusCounts } from '../../helpers/burst.ts';
import { INVALID_TOKEN_CHALLENGE } from '../vci/harness.ts';
import { admin, obtainCode, redeem, registerClient, startOidcApp, type TestClient } from './helpers.ts';

async function dpopKey() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  return {
    proof: (htm: string, htu: string, accessToken?: string, overrides: Record<string, unknown> = {}) =>
      new SignJWT({
        jti: randomUUID(),
        htm,
        htu,
        iat: Math.floor(Date.now() / 1000),
        ...(accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {}),
        ...overrides,
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .sign(privateKey),
  };
}

describe('TokenVerifier for the credential endpoint and the pre-authorized code grant (rows 38, 42)', () => {
  let app: TestApp;
  let client: TestClient;
  let verifier: TokenVerifier;
  let credentialUrl: string;
  // The token endpoint's pre-authorized code redeemer, given at construction: a block that sets a
  // stand-in here gets it, every other test the real one.
  let standIn: PreAuthorizedCodeRedeemer | undefined;
  beforeAll(async () => {
    app = await startOidcApp({
      compose: {
        preAuthorizedCodes: (built) => ({
          redeem: (code, txCode) => (standIn ?? built).redeem(code, txCode),
        }),
      },
    });
    client = await registerClient(app);
    verifier = app.running.parts.oidc.tokens;
    credentialUrl = `${app.url}/credential`;
  });
  afterAll(async () => app.stop());

  test('a bearer token from the code flow maps to the grant: account, identity system, consented claims', async () => {
    const { code, verifier: v } = await obtainCode(app, client, {
      claims: { userinfo: { name: { essential: true } } },
    });
    const tokens = await redeem(app, client, code, v);
    const grant = await verifier.verify({
      authorization: `Bearer ${tokens.body.access_token}`,
      dpop: undefined,
      method: 'POST',
      url: credentialUrl,
    });
    expect(grant.clientId).toBe(client.clientId);
    expect(grant.identitySystem).toBe('mock');
    expect(grant.consentedClaims).toContain('name');
    expect(grant.accountId).not.toContain('5550001234');
    expect(grant.dpopJkt).toBeUndefined();
  });

  // RFC 6750 §3.1: invalid_token, 401, with the challenge in WWW-Authenticate.
  // Without a token the challenge names no error code (RFC 6750 §3.1, last paragraph).
  const NO_TOKEN_CHALLENGE = 'DPoP algs="ES256 EdDSA Ed25519 PS256 RS256", Bearer realm="credential"';
  test.each([
    ['no Authorization header', undefined, 'an access token is required', NO_TOKEN_CHALLENGE],
    ['a Basic header', 'Basic abc', 'an access token is required', NO_TOKEN_CHALLENGE],
    [
      'an unknown token',
      'Bearer not-a-token',
      'the access token is invalid, expired or revoked',
      INVALID_TOKEN_CHALLENGE,
    ],
  ])('%s is invalid_token with WWW-Authenticate', async (_name, authorization, description, challenge) => {
    await expect(
      verifier.verify({ authorization, dpop: undefined, method: 'POST', url: credentialUrl }),
    ).rejects.toMatchObject({
      code: 'invalid_token',
      description,
      status: 401,
      headers: { 'WWW-Authenticate': challenge },
    });
  });

  const dpopRefused = (description: string) => ({
    code: 'invalid_dpop_proof',
    description,
    status: 401,
    headers: {
      'WWW-Authenticate': 'DPoP error="invalid_dpop_proof", algs="ES256 EdDSA Ed25519 PS256 RS256"',
    },
  });

  test('row 42 dpop-validation: a DPoP-bound token needs a fresh proof with ath, once, from the bound key', async () => {
    const key = await dpopKey();
    const flow = await obtainCode(app, client);
    const response = await request(`${app.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        dpop: await key.proof('POST', `${app.url}/token`),
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: flow.code,
        code_verifier: flow.verifier,
        redirect_uri: client.redirectUri,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await client.assertion(app.url),
      }).toString(),
    });
    const body = (await response.body.json()) as { access_token: string; token_type: string };
    expect(body.token_type).toBe('DPoP');
    const at = body.access_token;

    const proof = await key.proof('POST', credentialUrl, at);
    const grant = await verifier.verify({
      authorization: `DPoP ${at}`,
      dpop: proof,
      method: 'POST',
      url: credentialUrl,
    });
    expect(grant.dpopJkt).toBeTruthy();
    // jti replay
    await expect(
      verifier.verify({ authorization: `DPoP ${at}`, dpop: proof, method: 'POST', url: credentialUrl }),
    ).rejects.toMatchObject(dpopRefused('DPoP proof jti was already used'));
    // Bearer scheme with a DPoP-bound token
    await expect(
      verifier.verify({
        authorization: `Bearer ${at}`,
        dpop: await key.proof('POST', credentialUrl, at),
        method: 'POST',
        url: credentialUrl,
      }),
    ).rejects.toMatchObject({
      code: 'invalid_token',
      description: 'a DPoP-bound access token must be sent with the DPoP scheme',
      status: 401,
    });
    // RFC 9449 §7.1: a missing or bad proof is invalid_dpop_proof: no proof, wrong htm, wrong htu,
    // no ath, stale iat; a proof by another key is invalid_token (the token is not bound to it).
    const other = await dpopKey();
    for (const [dpop, why] of [
      [undefined, 'DPoP proof is missing'],
      [await key.proof('GET', credentialUrl, at), 'DPoP proof htm mismatch'],
      [await key.proof('POST', `${app.url}/elsewhere`, at), 'DPoP proof htu mismatch'],
      [await key.proof('POST', credentialUrl), 'DPoP proof ath mismatch'],
      [
        await key.proof('POST', credentialUrl, at, { iat: Math.floor(Date.now() / 1000) - 3600 }),
        'DPoP proof iat is not recent enough',
      ],
    ] as const) {
      await expect(
        verifier.verify({ authorization: `DPoP ${at}`, dpop, method: 'POST', url: credentialUrl }),
      ).rejects.toMatchObject(dpopRefused(why!));
    }
    await expect(
      verifier.verify({
        authorization: `DPoP ${at}`,
        dpop: await other.proof('POST', credentialUrl, at),
        method: 'POST',
        url: credentialUrl,
      }),
    ).rejects.toMatchObject({
      code: 'invalid_token',
      description: 'the DPoP proof key does not match the access token binding',
      status: 401,
    });
    // A 20-way burst of one proof verifies once.
    const shared = await key.proof('POST', credentialUrl, at);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        verifier.verify({ authorization: `DPoP ${at}`, dpop: shared, method: 'POST', url: credentialUrl }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
  });

  test('row 38/51: revoking the consent revokes the token', async () => {
    const { code, verifier: v } = await obtainCode(app, client);
    const tokens = await redeem(app, client, code, v);
    const grant = await verifier.verify({
      authorization: `Bearer ${tokens.body.access_token}`,
      dpop: undefined,
      method: 'POST',
      url: credentialUrl,
    });
    const { consents } = await admin(
      app,
      'GET',
      `/consents?account_id=${encodeURIComponent(grant.accountId)}`,
    );
    for (const consent of consents) await admin(app, 'DELETE', `/consents/${consent.id}`);
    await expect(
      verifier.verify({
        authorization: `Bearer ${tokens.body.access_token}`,
        dpop: undefined,
        method: 'POST',
        url: credentialUrl,
      }),
    ).rejects.toMatchObject({
      code: 'invalid_token',
      description: 'the access token is invalid, expired or revoked',
      status: 401,
    });
    const userinfo = await request(`${app.url}/userinfo`, {
      headers: { authorization: `Bearer ${tokens.body.access_token}` },
    });
    await userinfo.body.text();
    expect(userinfo.statusCode).toBe(401);
  });

  describe('pre-authorized code grant (OpenID4VCI 1.0 §6.1), anonymous', () => {
    const redeemed = new Map<string, number>();
    const fake: PreAuthorizedCodeRedeemer = {
      async redeem(code, txCode) {
        if (code !== 'good-code' && code !== 'burst-code')
          throw new InvalidGrant('unknown pre-authorized code');
        if (txCode !== '1234') throw new InvalidGrant('wrong tx_code');
        const uses = (redeemed.get(code) ?? 0) + 1;
        redeemed.set(code, uses);
        if (code === 'burst-code' && uses > 1) throw new InvalidGrant('pre-authorized code already used');
        return {
          accountId: 'acct-1',
          identitySystem: 'mock',
          credentialConfigurationIds: ['IdentityCredential'],
          authorizationDetails: [],
          consentedClaims: ['name', 'birthdate'],
        };
      },
    };
    beforeAll(() => {
      standIn = fake;
    });
    afterAll(() => {
      standIn = undefined;
    });

    const grant = (params: Record<string, string>, headers: Record<string, string> = {}) =>
      request(`${app.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code',
          ...params,
        }).toString(),
      });

    test('answers without client authentication with a no-store token response the verifier accepts', async () => {
      const response = await grant({
        'pre-authorized_code': 'good-code',
        tx_code: '1234',
        resource: app.url,
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers.pragma).toBe('no-cache');
      const body = (await response.body.json()) as Record<string, any>;
      expect(body.token_type).toBe('Bearer');
      expect(body.expires_in).toBe(300);
      // OpenID4VCI 1.0 §6.2: authorization_details (credential_identifiers) only when the request
      // carried authorization_details; the token still covers the offered configuration.
      expect(body.authorization_details).toBeUndefined();
      const verified = await verifier.verify({
        authorization: `Bearer ${body.access_token}`,
        dpop: undefined,
        method: 'POST',
        url: credentialUrl,
      });
      expect(verified).toMatchObject({
        accountId: 'acct-1',
        identitySystem: 'mock',
        credentialConfigurationIds: ['IdentityCredential'],
      });
      expect(verified.clientId).toBeUndefined();
    });

    test('is DPoP-bound when a DPoP proof is sent', async () => {
      const key = await dpopKey();
      const response = await grant(
        { 'pre-authorized_code': 'good-code', tx_code: '1234' },
        { dpop: await key.proof('POST', `${app.url}/token`) },
      );
      const body = (await response.body.json()) as Record<string, any>;
      expect(body.token_type).toBe('DPoP');
      const verified = await verifier.verify({
        authorization: `DPoP ${body.access_token}`,
        dpop: await key.proof('POST', credentialUrl, body.access_token),
        method: 'POST',
        url: credentialUrl,
      });
      expect(verified.dpopJkt).toBeTruthy();
    });

    test.each([
      [
        'a wrong tx_code',
        { 'pre-authorized_code': 'good-code', tx_code: '9999' },
        400,
        'invalid_grant',
        'wrong tx_code',
      ],
      [
        'an unknown code',
        { 'pre-authorized_code': 'nope', tx_code: '1234' },
        400,
        'invalid_grant',
        'unknown pre-authorized code',
      ],
      ['a missing code', { tx_code: '1234' }, 400, 'invalid_request', 'pre-authorized_code is required'],
      [
        'a foreign resource',
        { 'pre-authorized_code': 'good-code', tx_code: '1234', resource: 'https://other.example' },
        400,
        'invalid_target',
        'resource must be the credential issuer identifier',
      ],
    ])('%s gives the exact RFC 6749 §5.2 error', async (_name, params, status, error, description) => {
      const response = await grant(params as Record<string, string>);
      expect(response.statusCode).toBe(status);
      expect(await response.body.json()).toEqual({ error, error_description: description });
    });

    test('a duplicated parameter is invalid_request', async () => {
      const response = await request(`${app.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=good-code&pre-authorized_code=x',
      });
      expect(response.statusCode).toBe(400);
      // RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once" (§5.2 invalid_request).
      expect(await response.body.json()).toEqual({
        error: 'invalid_request',
        error_description: 'parameter "pre-authorized_code" is included more than once',
      });
    });

    test('a 20-way burst of one code yields exactly one token (the redeemer decides)', async () => {
      const results = await burst(20, `${app.url}/token`, {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code',
          'pre-authorized_code': 'burst-code',
          tx_code: '1234',
        }).toString(),
      });
      expect(statusCounts(results)).toEqual({ 200: 1, 400: 19 });
    });
  });
});
