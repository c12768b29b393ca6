import { createHash, randomUUID } from 'node:crypto';
import { decodeJwt, SignJWT } from 'jose';
import { request } from 'undici';
import { describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import {
  INVALID_CLIENT,
  obtainCode,
  parParams,
  registerClient,
  type TestClient,
  useAppAndClient,
} from './helpers.ts';

/** A form POST with a client assertion to one of the app's endpoints. */
const postForm = async (app: TestApp, path: string, params: Record<string, string>) => {
  const response = await request(`${app.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      ...params,
    }).toString(),
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: text ? JSON.parse(text) : {} };
};

/**
 * SECURITY.md rows 7 and 9: a client assertion dated in the future (`iat` or `nbf` beyond the clock
 * tolerance) does not authenticate, at the token endpoint and at PAR, and leaves no replay record
 * behind (its `jti` would otherwise be held until its far-away `exp`).
 *
 * The assertions are dated by the real clock: oidc-provider checks `exp`/`nbf` against the real
 * clock, and so does the `iat` bound (it judges the same assertion as the provider).
 */
describe('client assertions dated in the future (SECURITY rows 7, 9)', () => {
  let app: TestApp;
  let client: TestClient;
  const YEAR = 365 * 86_400;
  useAppAndClient((started) => ({ app, client } = started));

  const now = () => Math.floor(Date.now() / 1000);
  const signed = (claims: Record<string, unknown>) =>
    new SignJWT({
      iss: client.clientId,
      sub: client.clientId,
      aud: app.url,
      jti: randomUUID(),
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .sign(client.privateKey);

  const post = (path: string, params: Record<string, string>) => postForm(app, path, params);

  const par = (assertion: string) => post('/par', { ...parParams(client), client_assertion: assertion });

  const token = async (assertion: string) => {
    const { code, verifier } = await obtainCode(app, client);
    return post('/token', {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: client.redirectUri,
      client_assertion: assertion,
    });
  };

  /** Replay records of client assertions that outlive the longest acceptable assertion. */
  const longLivedReplayRecords = async () => {
    const { config } = app.services;
    const horizon =
      app.services.clock.now() +
      (config.oidc.clientAssertionMaxLifetimeSeconds + config.oidc.clockToleranceSeconds + 60) * 1000;
    const records = await app.services.store
      .collection({ name: 'oidc_replay_detection' })
      .find({}, { limit: 10_000 });
    return records.filter((r) => (r.expiresAt ?? Number.POSITIVE_INFINITY) > horizon);
  };

  const future = [
    ['iat 30 years ahead', () => signed({ iat: now() + 30 * YEAR, exp: now() + 30 * YEAR + 60 })],
    ['iat 60 s ahead', () => signed({ iat: now() + 60, exp: now() + 120 })],
    ['nbf 30 years ahead', () => signed({ iat: now(), nbf: now() + 30 * YEAR, exp: now() + 60 })],
  ] as const;

  // RFC 7523 §3 (rules 5-6) leaves "too far in the future" to the server; RFC 7519 §4.1.5 (nbf) and
  // BCP (RFC 9700) §2.1 / FAPI 2.0 §5.3.2.1 want the assertion valid now, within the clock tolerance.
  test.each(future)(
    'row 7: at PAR, %s is 401 invalid_client and leaves no replay record',
    async (_n, make) => {
      const result = await par(await make());
      expect(result.status).toBe(401);
      expect(result.body).toEqual(INVALID_CLIENT);
      expect(await longLivedReplayRecords()).toEqual([]);
    },
  );

  test.each(future)('row 7: at the token endpoint, %s is 401 invalid_client', async (_n, make) => {
    const result = await token(await make());
    expect(result.status).toBe(401);
    expect(result.body).toEqual(INVALID_CLIENT);
    expect(await longLivedReplayRecords()).toEqual([]);
  });

  test('an iat within the clock tolerance still authenticates, at PAR and at the token endpoint', async () => {
    const ahead = Math.max(1, app.services.config.oidc.clockToleranceSeconds - 2);
    expect((await par(await signed({ iat: now() + ahead, exp: now() + ahead + 60 }))).status).toBe(201);
    const result = await token(await signed({ iat: now() + ahead, exp: now() + ahead + 60 }));
    expect(result.status).toBe(200);
    expect(await longLivedReplayRecords()).toEqual([]);
  });
});

/**
 * SECURITY row 9 with a per-client lifetime: `client_assertion_max_lifetime` (1..3600) replaces the
 * configured cap (`oidc.clientAssertionMaxLifetimeSeconds`, 300) for one client, and the `jti` record
 * lasts the whole accepted lifetime: oidc-provider stores it until `exp` plus the clock tolerance
 * (lib/shared/jwt_client_auth.js `ReplayDetection.unique(iss, jti, exp + clockTolerance)`), and the
 * store expires it by the injected clock (src/oidc/adapter.ts).
 */
describe('client assertion lifetime per client, and the replay window (SECURITY row 9)', () => {
  let app: TestApp;
  let client: TestClient;
  let hourly: TestClient;
  useAppAndClient((started) => ({ app, client } = started));

  const now = () => Math.floor(Date.now() / 1000);
  const par = (who: TestClient, assertion: string) =>
    postForm(app, '/par', { ...parParams(who), client_assertion: assertion });

  test('a one-hour assertion authenticates a client registered for 3600 s, and not one without', async () => {
    hourly = await registerClient(app, { client_assertion_max_lifetime: 3600 });
    const hour = { iat: now(), exp: now() + 3600 };
    expect((await par(hourly, await hourly.assertion(app.url, hour))).status).toBe(201);
    const refused = await par(client, await client.assertion(app.url, hour));
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual(INVALID_CLIENT);
  });

  test("a lifetime over the client's own cap is refused, even when under the configured one", async () => {
    const short = await registerClient(app, { client_assertion_max_lifetime: 120 });
    expect((await par(short, await short.assertion(app.url, { exp: now() + 120 }))).status).toBe(201);
    const refused = await par(short, await short.assertion(app.url, { exp: now() + 121 }));
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual(INVALID_CLIENT);
    const over = await par(hourly, await hourly.assertion(app.url, { exp: now() + 3601 }));
    expect(over.status).toBe(401);
  });

  test('a one-hour assertion replayed 50 minutes later (store clock) is refused; its record lasts until exp', async () => {
    const assertion = await hourly.assertion(app.url, { iat: now(), exp: now() + 3600 });
    expect((await par(hourly, assertion)).status).toBe(201);
    // Past the configured 300 s and well into the hour: the jti record must still be there.
    app.clock.advanceSeconds(50 * 60);
    const replay = await par(hourly, assertion);
    expect(replay.status).toBe(401);
    expect(replay.body).toEqual(INVALID_CLIENT);
    // The record oidc-provider keeps (lib/models/replay_detection.js: id = SHA-256 of iss + jti).
    const { jti } = decodeJwt(assertion);
    const id = createHash('sha256').update(`${hourly.clientId}${jti}`).digest('base64url');
    const record = await app.services.store.collection({ name: 'oidc_replay_detection' }).get(id);
    // Held until exp + tolerance by the store's clock: ~605 s from the moved clock, not 300 s from the first use.
    expect(record?.expiresAt).toBeGreaterThan(app.clock.now() + 500_000);
    expect(record?.expiresAt).toBeLessThanOrEqual(app.clock.now() + 700_000);
  });
});
