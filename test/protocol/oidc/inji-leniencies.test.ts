import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holderKey, proofJwt, startVci, type VciHarness } from '../vci/harness.ts';
import { Browser } from './helpers.ts';
import { walletLogin } from './wallet-login.ts';

/**
 * Per-client leniencies for MOSIP Inji Wallet's authorization-code flow (src/oidc/leniencies.ts),
 * each refused for a client that did not opt in and accepted for one that did. The requests are
 * built as mosip/inji-vci-client builds them (branch release-0.4.x,
 * 8ef3fb03abe100b8afb5d9fab9aadda6d1c4ab86, kotlin/vci-client/src/main/java/io/mosip/vciclient/):
 * - authorizationServer/AuthorizationUrlBuilder.kt:20-28: a GET to the authorization endpoint with
 *   client_id, redirect_uri, response_type=code, scope (the configuration's scope only, no
 *   `openid`: authorizationCodeFlow/AuthorizationCodeFlowService.kt:95), state, code_challenge,
 *   code_challenge_method=S256 and always a `nonce`;
 * - pkce/PKCESessionManager.kt:30-41: the verifier is okio `base64Url()` of 64 random bytes (88
 *   characters, `==` padding kept), the challenge base64url(SHA-256(that padded verifier)) with its
 *   padding trimmed;
 * - token/TokenService.kt:22-37 and AuthorizationCodeFlowService.kt:58,109: the token request carries
 *   the code, client_id, redirect_uri and that verifier, and the proof nonce is the token response's
 *   `c_nonce`.
 */

const REDIRECT_URI = 'https://inji.example.org/redirect';

/** As PKCESessionManager builds it: base64url of 64 random bytes with its `=` padding kept. */
const injiPkce = () => {
  const verifier = randomBytes(64).toString('base64').replaceAll('+', '-').replaceAll('/', '_');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
};

describe('Inji Wallet leniencies (authorization code flow)', () => {
  let h: VciHarness;
  const register = async (clientId: string, leniencies: string[]) => {
    const res = await h.admin('POST', '/clients', {
      client_id: clientId,
      client_name: 'Inji Wallet',
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'none',
      allowed_claims: ['birthdate'],
      ...(leniencies.length ? { leniencies } : {}),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  };

  beforeAll(async () => {
    h = await startVci();
    await register('inji-strict', []);
    await register('inji-lenient', ['nonce_without_openid', 'padded_pkce_verifier']);
    await register('inji-jwt', ['nonce_without_openid', 'padded_pkce_verifier', 'jwt_access_token_c_nonce']);
  });
  afterAll(() => h.stop());

  const authorizeUrl = (clientId: string, challenge: string, scope = 'proof_of_age') =>
    `${h.url}/authorize?${new URLSearchParams({
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope,
      state: randomBytes(16).toString('hex'),
      code_challenge: challenge,
      code_challenge_method: 'S256',
      nonce: randomBytes(16).toString('hex'),
    })}`;

  const code = (browser: Browser, interaction: string) => walletLogin(h, browser, interaction);

  const token = async (clientId: string, authorizationCode: string, verifier: string) => {
    const res = await request(`${h.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: authorizationCode,
        client_id: clientId,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
      }).toString(),
    });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, any> };
  };

  it('nonce_without_openid: refused without the leniency, accepted (nonce dropped) with it', async () => {
    const strict = await new Browser(new URL(h.url).origin).fetch(
      authorizeUrl('inji-strict', injiPkce().challenge),
    );
    const refused = new URL(strict.location!);
    expect(refused.origin + refused.pathname).toBe(REDIRECT_URI);
    expect(refused.searchParams.get('error')).toBe('invalid_request');
    expect(refused.searchParams.get('error_description')).toBe(
      'openid scope must be requested when using the nonce parameter',
    );

    const lenient = await new Browser(new URL(h.url).origin).fetch(
      authorizeUrl('inji-lenient', injiPkce().challenge),
    );
    expect(lenient.location).toContain('/interaction/');
  });

  it('padded_pkce_verifier: refused without the leniency; with it the padded verifier redeems the code and the token response c_nonce is the proof nonce', async () => {
    // Without the leniency (an openid request, so the nonce passes): the padded verifier is refused.
    const strictPkce = injiPkce();
    const strictBrowser = new Browser(new URL(h.url).origin);
    const strictStart = await strictBrowser.fetch(
      authorizeUrl('inji-strict', strictPkce.challenge, 'openid proof_of_age'),
    );
    const strictCode = await code(strictBrowser, strictStart.location!);
    const refused = await token('inji-strict', strictCode, strictPkce.verifier);
    // RFC 7636 §4.1 form (oidc-provider lib/helpers/pkce_format.js): `=` is not an unreserved character.
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      error: 'invalid_request',
      error_description: 'code_verifier contains invalid characters',
    });

    const pkce = injiPkce();
    expect(pkce.verifier).toMatch(/^[A-Za-z0-9_-]{86}==$/);
    const browser = new Browser(new URL(h.url).origin);
    const start = await browser.fetch(authorizeUrl('inji-lenient', pkce.challenge));
    const authorizationCode = await code(browser, start.location!);
    // A wrong padded verifier is still refused for the lenient client.
    const wrong = await token('inji-lenient', authorizationCode, injiPkce().verifier);
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_request');
    const issued = await token('inji-lenient', authorizationCode, pkce.verifier);
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    expect(issued.body.c_nonce).toEqual(expect.any(String));
    // Single use, as any code.
    expect((await token('inji-lenient', authorizationCode, pkce.verifier)).status).toBe(400);

    const key = await holderKey();
    const credential = await h.post(
      '/credential',
      {
        credential_configuration_id: 'AgeCredential_ldp_vc',
        proofs: { jwt: [await proofJwt(key, h.url, issued.body.c_nonce)] },
      },
      { authorization: `Bearer ${issued.body.access_token}` },
    );
    expect(credential.status, credential.text).toBe(200);
  });

  it('padded_pkce_verifier: 20 parallel redemptions of one code with the padded verifier issue tokens once (SECURITY.md row 1)', async () => {
    // The leniency rewrites the stored code's challenge before the provider redeems it; that write
    // must not bring back a code another request has just consumed.
    const pkce = injiPkce();
    const browser = new Browser(new URL(h.url).origin);
    const start = await browser.fetch(authorizeUrl('inji-lenient', pkce.challenge));
    const authorizationCode = await code(browser, start.location!);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => token('inji-lenient', authorizationCode, pkce.verifier)),
    );
    const statuses = results.map((r) => r.status);
    expect(
      statuses.filter((s) => s === 200),
      JSON.stringify(statuses),
    ).toHaveLength(1);
    expect(statuses.every((s) => s === 200 || s === 400)).toBe(true);
  });

  it('padded_pkce_verifier: a retry after a refused token request still redeems the code', async () => {
    // A first request refused after the leniency ran (here: a wrong redirect_uri) must not leave
    // the code unusable with the verifier the wallet holds.
    const pkce = injiPkce();
    const browser = new Browser(new URL(h.url).origin);
    const start = await browser.fetch(authorizeUrl('inji-lenient', pkce.challenge));
    const authorizationCode = await code(browser, start.location!);
    const refused = await request(`${h.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: authorizationCode,
        client_id: 'inji-lenient',
        redirect_uri: 'https://inji.example.org/other',
        code_verifier: pkce.verifier,
      }).toString(),
    });
    expect(refused.statusCode).toBe(400);
    await refused.body.dump();
    const issued = await token('inji-lenient', authorizationCode, pkce.verifier);
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
  });

  it('jwt_access_token_c_nonce: an RFC 9068 JWT access token carrying a single-use c_nonce only for the client that opted in', async () => {
    // Without the leniency: opaque access tokens (the lenient client above).
    const plainPkce = injiPkce();
    const plainBrowser = new Browser(new URL(h.url).origin);
    const plainStart = await plainBrowser.fetch(authorizeUrl('inji-lenient', plainPkce.challenge));
    const plain = await token(
      'inji-lenient',
      await code(plainBrowser, plainStart.location!),
      plainPkce.verifier,
    );
    expect(plain.status).toBe(200);
    expect(plain.body.access_token.split('.')).toHaveLength(1);

    // With it, as eSignet's TokenServiceImpl.getAccessToken issues them (iss, sub, aud, iat, exp,
    // scope, client_id, c_nonce, c_nonce_expires_in); Inji Wallet with inji-vci-client 0.2 takes the
    // proof nonce from the access token's c_nonce claim.
    const pkce = injiPkce();
    const browser = new Browser(new URL(h.url).origin);
    const start = await browser.fetch(authorizeUrl('inji-jwt', pkce.challenge));
    const issued = await token('inji-jwt', await code(browser, start.location!), pkce.verifier);
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    const accessToken = issued.body.access_token as string;
    expect(decodeProtectedHeader(accessToken).typ).toBe('at+jwt');
    const claims = decodeJwt(accessToken);
    expect(claims).toMatchObject({ iss: h.url, aud: h.url, client_id: 'inji-jwt', scope: 'proof_of_age' });
    expect(claims.c_nonce).toEqual(expect.any(String));
    expect(claims.c_nonce_expires_in).toBeGreaterThan(0);
    expect(issued.body.c_nonce).toBe(claims.c_nonce);

    const key = await holderKey();
    const request1 = async () =>
      h.post(
        '/credential',
        {
          credential_configuration_id: 'AgeCredential_ldp_vc',
          proofs: { jwt: [await proofJwt(key, h.url, claims.c_nonce as string)] },
        },
        { authorization: `Bearer ${accessToken}` },
      );
    const credential = await request1();
    expect(credential.status, credential.text).toBe(200);
    // The nonce is single use.
    const replay = await request1();
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_nonce');
  });
});
