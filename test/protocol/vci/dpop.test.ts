import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  holderKey,
  INVALID_TOKEN_CHALLENGE,
  preAuthorizedCode,
  proofJwt,
  startVci,
  type VciHarness,
} from './harness.ts';

/** DPoP-bound access tokens at the credential endpoint (RFC 9449 §7; OpenID4VCI 1.0 §6.2, §13.2). */
describe('DPoP-bound access tokens at the credential endpoint', () => {
  let h: VciHarness;
  beforeAll(async () => {
    h = await startVci();
  });
  afterAll(() => h.stop());

  async function dpopKey() {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    return {
      proof: (htm: string, htu: string, accessToken?: string) =>
        new SignJWT({
          htm,
          htu,
          jti: randomUUID(),
          iat: Math.floor(h.app.clock.now() / 1000),
          ...(accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {}),
        })
          .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
          .sign(privateKey),
    };
  }

  it('issues with a DPoP proof of the bound key, and refuses Bearer or another key', async () => {
    // The harness runs without fakeTokens: the token endpoint is the provider's, which binds DPoP.
    expect(h.realTokens).toBe(true);
    const meta = (await (await request(`${h.url}/.well-known/openid-configuration`)).body.json()) as {
      token_endpoint: string;
    };
    const who = await h.person();
    const offer = await h.offer(['AgeCredential_ldp_vc'], who.individualId);
    const code = preAuthorizedCode(offer);
    const bound = await dpopKey();
    const tokenRes = await request(meta.token_endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        dpop: await bound.proof('POST', meta.token_endpoint),
      },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code',
        'pre-authorized_code': code,
      }).toString(),
    });
    const token = (await tokenRes.body.json()) as { access_token: string; token_type: string };
    expect(tokenRes.statusCode).toBe(200);
    expect(token.token_type).toMatch(/^dpop$/i);

    const credentialUrl = `${h.url}/credential`;
    const body = async () => ({
      credential_configuration_id: 'AgeCredential_ldp_vc',
      proofs: {
        jwt: [
          await proofJwt(await holderKey(), h.url, await h.nonce(), {
            iat: Math.floor(h.app.clock.now() / 1000),
          }),
        ],
      },
    });
    const asBearer = await h.post('/credential', await body(), {
      authorization: `Bearer ${token.access_token}`,
    });
    // RFC 9449 §7.1: a DPoP-bound token sent as Bearer is invalid_token, with both challenges.
    expect(asBearer.status).toBe(401);
    expect(asBearer.body).toEqual({
      error: 'invalid_token',
      error_description: 'a DPoP-bound access token must be sent with the DPoP scheme',
    });
    expect(asBearer.headers['www-authenticate']).toBe(INVALID_TOKEN_CHALLENGE);
    const other = await dpopKey();
    const wrongKey = await h.post('/credential', await body(), {
      authorization: `DPoP ${token.access_token}`,
      dpop: await other.proof('POST', credentialUrl, token.access_token),
    });
    expect(wrongKey.status).toBe(401);
    const ok = await h.post('/credential', await body(), {
      authorization: `DPoP ${token.access_token}`,
      dpop: await bound.proof('POST', credentialUrl, token.access_token),
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.credentials).toHaveLength(1);
  });
});
