import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import {
  Browser,
  IDENTITY,
  latestOtp,
  obtainCode,
  redeem,
  registerClient,
  startAuthorization,
  startOidcApp,
  type TestClient,
} from './helpers.ts';

const OIDC_COLLECTIONS = [
  'oidc_login_transactions',
  'oidc_grant_kyc',
  'consents',
  'oidc_interaction',
  'oidc_session',
  'oidc_grant',
  'oidc_access_token',
  'oidc_refresh_token',
  'oidc_authorization_code',
  'oidc_pushed_authorization_request',
];

describe('secrets and personal data stay out of logs and OIDC records (rows 26, 27, 47)', () => {
  let app: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    app = await startOidcApp();
    client = await registerClient(app, { grant_types: ['authorization_code', 'refresh_token'] });
  });
  afterAll(async () => app.stop());

  test('after OTP, PIN and password logins with userinfo, no identifier, secret or claim value is in logs or OIDC rows', async () => {
    const markers = [
      IDENTITY.individualId,
      IDENTITY.pin,
      IDENTITY.password,
      IDENTITY.claims.name,
      IDENTITY.claims.email,
      IDENTITY.claims.birthdate,
    ];
    let otp = '';
    for (const factor of ['otp', 'pin', 'password'] as const) {
      const { code, verifier } = await obtainCode(app, client, {
        factor,
        claims: { userinfo: { name: { essential: true }, birthdate: null } },
      });
      if (factor === 'otp') otp = await latestOtp(app);
      const tokens = await redeem(app, client, code, verifier);
      const userinfo = await request(`${app.url}/userinfo`, {
        headers: { authorization: `Bearer ${tokens.body.access_token}` },
      });
      expect(userinfo.statusCode).toBe(200);
      await userinfo.body.text();
    }
    const logs = JSON.stringify(app.logs);
    for (const marker of [...markers, otp]) expect(logs).not.toContain(marker);
    for (const name of ['oidc_grant_kyc', 'oidc_session', 'oidc_access_token', 'oidc_login_transactions']) {
      // The scan below is not vacuous: these hold one record per login at least.
      expect(
        (await app.services.store.collection({ name }).find({}, { limit: 100 })).length,
      ).toBeGreaterThanOrEqual(3);
    }
    for (const name of OIDC_COLLECTIONS) {
      const rows = JSON.stringify(await app.services.store.collection({ name }).find({}, { limit: 10_000 }));
      for (const marker of markers) expect(rows, `${name} holds ${marker}`).not.toContain(marker);
    }
  });

  test('row 47: an unknown individual and a wrong password get the same status and body', async () => {
    const attempt = async (individualId: string) => {
      const browser = new Browser(new URL(app.url).origin);
      const { interaction } = await startAuthorization(app, browser, client);
      const details = (await browser.fetch(`${interaction}/api`)).json();
      const reply = await browser.fetch(`${interaction}/api/authenticate`, {
        json: { individual_id: individualId, factor: 'password', challenge: 'Wrong-Password-1' },
        headers: { 'x-csrf-token': details.csrf_token },
      });
      return { status: reply.status, body: reply.json() };
    };
    const unknown = await attempt('9999999999');
    const wrong = await attempt(IDENTITY.individualId);
    expect(unknown.status).toBe(wrong.status);
    expect(unknown.body).toEqual(wrong.body);
  });
});
