import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import { codeGrantForm, obtainCode, registerClient, startOidcApp, type TestClient } from './helpers.ts';

describe('DPoP required per client (dpop_bound_access_tokens), row 42 at the token endpoint', () => {
  let app: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    app = await startOidcApp();
    client = await registerClient(app, { dpop_bound_access_tokens: true });
  });
  afterAll(async () => app.stop());

  const tokenRequest = async (code: string, verifier: string, dpop?: string) => {
    const response = await request(`${app.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(dpop ? { dpop } : {}) },
      body: new URLSearchParams(await codeGrantForm(app, client, code, verifier)).toString(),
    });
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, any> };
  };

  test('without a proof the token request is refused; with one the token is DPoP-bound and lives longer', async () => {
    const first = await obtainCode(app, client);
    const refused = await tokenRequest(first.code, first.verifier);
    expect(refused.status).toBe(400);
    // RFC 9449 §5.2.1 (dpop_bound_access_tokens): the request must be refused, without naming a
    // code; oidc-provider answers a missing proof for a DPoP-bound client with invalid_grant.
    expect(refused.body).toEqual({ error: 'invalid_grant', error_description: 'grant request is invalid' });

    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const signed = await new SignJWT({
      jti: randomUUID(),
      htm: 'POST',
      htu: `${app.url}/token`,
      iat: Math.floor(Date.now() / 1000),
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
      .sign(privateKey);
    const second = await obtainCode(app, client);
    const bound = await tokenRequest(second.code, second.verifier, signed);
    expect(bound.status).toBe(200);
    expect(bound.body.token_type).toBe('DPoP');
    expect(bound.body.expires_in).toBe(900);
    // The same proof again (replay) is refused.
    const third = await obtainCode(app, client);
    const replay = await tokenRequest(third.code, third.verifier, signed);
    expect(replay.status).toBe(400);
  });
});
