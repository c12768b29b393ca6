import { decodeJwt } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import { burst, statusCounts } from '../../helpers/burst.ts';
import {
  admin,
  Browser,
  IDENTITY,
  loginWithApi,
  redeem,
  registerClient,
  startAuthorization,
  startOidcApp,
  type TestClient,
} from './helpers.ts';

describe('login transactions, consent and CSRF (SECURITY rows 17-20, 22)', () => {
  let app: TestApp;
  let client: TestClient;
  let origin: string;
  beforeAll(async () => {
    app = await startOidcApp();
    client = await registerClient(app, { allowed_claims: ['name', 'birthdate'] });
    origin = new URL(app.url).origin;
  });
  afterAll(async () => app.stop());

  const begin = async (options = {}) => {
    const browser = new Browser(origin);
    const started = await startAuthorization(app, browser, client, options);
    const details = (await browser.fetch(`${started.interaction}/api`)).json();
    const headers = { 'x-csrf-token': details.csrf_token as string, origin };
    return { browser, started, details, headers, interaction: started.interaction };
  };

  const pin = { individual_id: IDENTITY.individualId, factor: 'pin', challenge: IDENTITY.pin };

  test('row 17 transaction-expiry: authenticating after the 300 s login window is invalid_transaction', async () => {
    const { browser, interaction, headers } = await begin();
    app.clock.advanceSeconds(301);
    const late = await browser.fetch(`${interaction}/api/authenticate`, { json: pin, headers });
    expect(late.status).toBe(401);
    expect(late.json().error).toBe('invalid_transaction');
  });

  test('row 17: consenting more than 120 s after authenticating is invalid_transaction', async () => {
    const { browser, interaction, headers } = await begin({ prompt: 'consent' });
    expect((await browser.fetch(`${interaction}/api/authenticate`, { json: pin, headers })).status).toBe(200);
    app.clock.advanceSeconds(121);
    const late = await browser.fetch(`${interaction}/api/consent`, {
      json: { accepted_claims: [] },
      headers,
    });
    expect(late.status).toBe(401);
    expect(late.json().error).toBe('invalid_transaction');
  });

  test("row 17/19: another browser cannot use someone else's transaction", async () => {
    const { interaction, headers } = await begin();
    const other = new Browser(origin);
    const stolen = await other.fetch(`${interaction}/api/authenticate`, { json: pin, headers });
    expect(stolen.status).toBe(401);
    expect(stolen.json().error).toBe('invalid_transaction');
  });

  test.each([
    ['no CSRF token', (): Record<string, string> => ({ origin })],
    ['a wrong CSRF token', (): Record<string, string> => ({ origin, 'x-csrf-token': 'forged' })],
  ])('row 19 csrf: %s is 403 and nothing is authenticated', async (_name, makeHeaders) => {
    const { browser, interaction } = await begin();
    const response = await browser.fetch(`${interaction}/api/authenticate`, {
      json: pin,
      headers: makeHeaders(),
    });
    expect(response.status).toBe(403);
    expect((await browser.fetch(`${interaction}/api`)).json().authenticated).toBe(false);
  });

  test.each([
    ['a cross-site Origin', { origin: 'https://evil.example' }],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
  ])('row 19: %s is 403 even with the right token', async (_name, extra) => {
    const { browser, interaction, headers } = await begin();
    const response = await browser.fetch(`${interaction}/api/authenticate`, {
      json: pin,
      headers: { ...headers, ...extra },
    });
    expect(response.status).toBe(403);
  });

  test('row 19: the page form without a CSRF token is refused', async () => {
    const { browser, interaction } = await begin();
    const response = await browser.fetch(`${interaction}/login`, {
      form: { factor: 'pin', individual_id: IDENTITY.individualId, pin: IDENTITY.pin },
    });
    expect(response.status).toBe(403);
    expect(response.text).toContain('role="alert"');
  });

  test('row 19: interaction cookies are HttpOnly and SameSite=Lax', async () => {
    const browser = new Browser(origin);
    const started = await startAuthorization(app, browser, client);
    const cookies = [started.reply.headers['set-cookie'] ?? []].flat();
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) {
      expect(cookie.toLowerCase()).toContain('httponly');
      expect(cookie.toLowerCase()).toContain('samesite=lax');
    }
  });

  test('row 18 consent-tampering-claims-minimisation: released = requested ∩ client-allowed ∩ accepted', async () => {
    const claims = {
      userinfo: { name: { essential: true }, birthdate: null, email: null, nationality: null },
    };
    const { browser, interaction, headers } = await begin({ claims, prompt: 'consent' });
    const auth = await browser.fetch(`${interaction}/api/authenticate`, { json: pin, headers });
    expect(auth.json()).toMatchObject({ consent_required: true, essential_claims: ['name'] });
    // email is not allowed for this client, nationality is unknown: neither is even offered.
    expect(auth.json().voluntary_claims).toEqual(['birthdate']);
    const tampered = await browser.fetch(`${interaction}/api/consent`, {
      json: { accepted_claims: ['email'] },
      headers,
    });
    expect(tampered.status).toBe(400);
    // Declining every voluntary claim still releases the essential one.
    const results = await burst(5, `${interaction}/api/consent`, {
      headers: {
        ...headers,
        'content-type': 'application/json',
        cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      },
      body: JSON.stringify({ accepted_claims: [] }),
    });
    expect(statusCounts(results)[200]).toBe(1);
    const to = JSON.parse(results.find((r) => r.status === 200)!.body).redirect_to as string;
    const callback = new URL((await browser.follow(to)).url);
    const code = callback.searchParams.get('code')!;
    expect(code).toBeTruthy();
  });

  test('row 18: userinfo and ID token carry nothing beyond the consent, and one consent row exists per client and person', async () => {
    const claims = { userinfo: { name: { essential: true }, birthdate: null } };
    const browser = new Browser(origin);
    const started = await startAuthorization(app, browser, client, { claims, prompt: 'consent' });
    const callback = new URL(
      await loginWithApi(app, browser, started.interaction, 'pin', { accept: ['name'] }),
    );
    const tokens = await redeem(app, client, callback.searchParams.get('code')!, started.verifier);
    const idToken = decodeJwt(tokens.body.id_token);
    expect(
      Object.keys(idToken).filter(
        (k) =>
          !['iss', 'sub', 'aud', 'exp', 'iat', 'nonce', 'acr', 'amr', 'auth_time', 'at_hash', 'sid'].includes(
            k,
          ),
      ),
    ).toEqual([]);
    const userinfo = await request(`${app.url}/userinfo`, {
      headers: { authorization: `Bearer ${tokens.body.access_token}` },
    });
    expect(userinfo.headers['cache-control']).toBe('no-store');
    const released = decodeJwt(await userinfo.body.text());
    expect(released.name).toBe(IDENTITY.claims.name);
    expect(released.birthdate).toBeUndefined();
    expect(released.email).toBeUndefined();
    const { consents } = await admin(app, 'GET', `/consents?subject=${encodeURIComponent(idToken.sub!)}`);
    expect(consents.filter((c: { client_id: string }) => c.client_id === client.clientId)).toHaveLength(1);
  });

  test('row 20 session-fixation: an attacker-chosen session cookie is replaced at login', async () => {
    const browser = new Browser(origin);
    browser.cookies.set('_session', 'attacker-chosen');
    const started = await startAuthorization(app, browser, client);
    await loginWithApi(app, browser, started.interaction, 'pin');
    expect(browser.cookies.get('_session')).toBeDefined();
    expect(browser.cookies.get('_session')).not.toBe('attacker-chosen');
  });

  test('row 22 token-leakage-hygiene: no-store on token and PAR, no-referrer on pages, no access token in the query', async () => {
    const browser = new Browser(origin);
    const started = await startAuthorization(app, browser, client);
    const page = await browser.fetch(started.interaction);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(String(page.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    const callback = new URL(await loginWithApi(app, browser, started.interaction, 'pin'));
    const tokens = await redeem(app, client, callback.searchParams.get('code')!, started.verifier);
    expect(tokens.headers['cache-control']).toBe('no-store');
    expect(tokens.headers.pragma).toBe('no-cache');
    const inQuery = await request(`${app.url}/userinfo?access_token=${tokens.body.access_token}`);
    // RFC 6750 §2.3 is not offered, so the token in the query is refused outright (invalid_request, §3.1).
    expect(inQuery.statusCode).toBe(400);
    expect(await inQuery.body.json()).toEqual({
      error: 'invalid_request',
      error_description: 'access tokens must not be provided via query parameter',
    });
    expect(inQuery.headers['www-authenticate']).toBe(
      `Bearer realm="${app.url}", error="invalid_request", error_description="access tokens must not be provided via query parameter"`,
    );
  });
});
