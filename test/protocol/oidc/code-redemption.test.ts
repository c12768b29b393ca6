import { request } from 'undici';
import { beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import { burst, statusCounts } from '../../helpers/burst.ts';
import {
  codeGrantForm,
  INVALID_GRANT,
  obtainCode,
  redeem,
  registerClient,
  type TestClient,
  useAppAndClient,
} from './helpers.ts';

const tokenForm = async (app: TestApp, client: TestClient, code: string, verifier: string) =>
  new URLSearchParams(await codeGrantForm(app, client, code, verifier)).toString();

describe('authorization code: single use, binding and expiry (SECURITY rows 1-3)', () => {
  let app: TestApp;
  let client: TestClient;
  let other: TestClient;
  useAppAndClient((started) => ({ app, client } = started));
  beforeAll(async () => {
    other = await registerClient(app);
  });

  test('row 1 code-double-redemption-parallel: 20 concurrent redemptions give exactly one 200', async () => {
    for (let round = 0; round < 5; round++) {
      const { code, verifier } = await obtainCode(app, client);
      // Each request carries its own client assertion, so only the code race decides.
      const bodies = await Promise.all(
        Array.from({ length: 20 }, () => tokenForm(app, client, code, verifier)),
      );
      let i = 0;
      const results = await burst(20, `${app.url}/token`, {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: () => bodies[i++]!,
      });
      expect(statusCounts(results)).toEqual({ 200: 1, 400: 19 });
      for (const r of results.filter((x) => x.status === 400))
        expect(JSON.parse(r.body)).toEqual(INVALID_GRANT);
    }
  });

  test('row 2 code-reuse-revokes-tokens: a replayed code fails and revokes what the first redemption issued', async () => {
    const { code, verifier } = await obtainCode(app, client);
    const first = await redeem(app, client, code, verifier);
    expect(first.status).toBe(200);
    const replay = await redeem(app, client, code, verifier);
    expect(replay.status).toBe(400);
    expect(replay.body).toEqual(INVALID_GRANT);
    const userinfo = await request(`${app.url}/userinfo`, {
      headers: { authorization: `Bearer ${first.body.access_token}` },
    });
    // RFC 6750 §3.1: a revoked access token is invalid_token, 401, named in the challenge too.
    expect(userinfo.statusCode).toBe(401);
    expect(await userinfo.body.json()).toEqual({
      error: 'invalid_token',
      error_description: 'invalid token provided',
    });
    expect(userinfo.headers['www-authenticate']).toBe(
      `Bearer realm="${app.url}", error="invalid_token", error_description="invalid token provided"`,
    );
    const introspection = await request(`${app.url}/token/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: first.body.access_token,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await client.assertion(app.url),
      }).toString(),
    });
    expect(((await introspection.body.json()) as { active: boolean }).active).toBe(false);
  });

  test('row 3 code-binding-and-expiry: another client is refused without consuming the code', async () => {
    const { code, verifier } = await obtainCode(app, client);
    const stolen = await redeem(app, other, code, verifier, { redirect_uri: client.redirectUri });
    expect(stolen.status).toBe(400);
    expect(stolen.body).toEqual(INVALID_GRANT);
    expect((await redeem(app, client, code, verifier)).status).toBe(200);
  });

  test('row 3: a different redirect_uri is refused', async () => {
    const { code, verifier } = await obtainCode(app, client);
    const wrong = await redeem(app, client, code, verifier, { redirect_uri: 'https://rp.example.org/other' });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual(INVALID_GRANT);
  });

  test('row 3: a code is refused after its 60 s lifetime', async () => {
    const { code, verifier } = await obtainCode(app, client);
    app.clock.advanceSeconds(61);
    const late = await redeem(app, client, code, verifier);
    expect(late.status).toBe(400);
    expect(late.body).toEqual(INVALID_GRANT);
  });
});
