import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, IDENTITY, startAuthorization } from '../protocol/oidc/helpers.ts';
import { holderKey, proofJwt } from '../protocol/vci/harness.ts';
import { CONFIGURATION, type Fixture, header, PRE_AUTH, raw, startFixture } from './support.ts';

/**
 * SECURITY.md rows 21 (clickjacking-headers) and 22 (token-leakage-hygiene), asserted on the started
 * app over real HTTP: every HTML page refuses framing; responses that carry tokens, nonces or
 * credentials are never cached; UI never leaks a Referer; bearer tokens are not taken from a query
 * string (RFC 6750 §2.3 is a MAY; FAPI 2.0 §5.3.3.2 and BCP RFC 9700 §4.3.2 forbid it); and a POST
 * that redirects answers 303, so the browser does not re-POST the body to the next hop (RFC 9700
 * §4.12, 307 after a credential-bearing POST forwards the credentials).
 */

let f: Fixture;
beforeAll(async () => {
  f = await startFixture();
});
afterAll(() => f?.h.stop());

function expectFramingRefused(
  reply: { headers: Record<string, string | string[] | undefined> },
  what: string,
) {
  expect(header(reply, 'content-type'), what).toContain('text/html');
  const csp = header(reply, 'content-security-policy');
  expect(csp, `${what}: CSP`).toMatch(/frame-ancestors 'none'/);
  // Two CSP headers would be intersected by the browser; make sure none of them relaxes framing.
  for (const policy of [reply.headers['content-security-policy']].flat()) {
    expect(String(policy), `${what}: every CSP`).toMatch(/frame-ancestors 'none'/);
  }
  expect(header(reply, 'x-frame-options'), `${what}: XFO`).toBe('DENY');
  expect(header(reply, 'referrer-policy'), `${what}: Referrer-Policy`).toBe('no-referrer');
}

function expectNoStore(reply: { headers: Record<string, string | string[] | undefined> }, what: string) {
  expect(header(reply, 'cache-control'), `${what}: Cache-Control`).toMatch(/\bno-store\b/);
  expect(header(reply, 'pragma'), `${what}: Pragma`).toBe('no-cache');
}

/** A fresh interaction, authenticated (or not) through the JSON API, in its own browser. */
async function interaction(authenticated: boolean) {
  const browser = new Browser(new URL(f.app.url).origin);
  // prompt=consent: the fixture already consented for this client, which would skip the consent step.
  const started = await startAuthorization(f.app, browser, f.client, { prompt: 'consent' });
  const details = (await browser.fetch(`${started.interaction}/api`)).json();
  const csrf = details.csrf_token as string;
  if (authenticated) {
    const auth = await browser.fetch(`${started.interaction}/api/authenticate`, {
      json: { individual_id: IDENTITY.individualId, factor: 'pin', challenge: IDENTITY.pin },
      headers: { 'x-csrf-token': csrf, origin: new URL(f.app.url).origin },
    });
    expect(auth.status, auth.text).toBe(200);
  }
  return { browser, url: started.interaction, csrf };
}

describe('clickjacking-headers (SECURITY.md row 21; BCP RFC 9700 §4.16)', () => {
  it('refuses framing on the login pages of every factor', async () => {
    const { browser, url } = await interaction(false);
    for (const factor of [
      '',
      '?factor=otp',
      '?factor=pin',
      '?factor=password',
      '?factor=kbi',
      '?ui_locales=ar',
    ]) {
      const page = await browser.fetch(`${url}${factor}`);
      expect(page.status, factor).toBe(200);
      expectFramingRefused(page, `login page ${factor}`);
    }
  });

  it('refuses framing on a login page re-rendered with an error (wrong PIN)', async () => {
    const { browser, url, csrf } = await interaction(false);
    const page = await browser.fetch(`${url}/login`, {
      form: { csrf, factor: 'pin', individual_id: IDENTITY.individualId, pin: '000000' },
      headers: { origin: new URL(f.app.url).origin },
    });
    expect(page.status).toBeGreaterThanOrEqual(400);
    expectFramingRefused(page, 'login page with error');
  });

  it('refuses framing on the consent page', async () => {
    const { browser, url } = await interaction(true);
    const page = await browser.fetch(url);
    expect(page.status).toBe(200);
    expect(page.text).toContain('csrf');
    expectFramingRefused(page, 'consent page');
  });

  it('refuses framing on error pages: ours, oidc-provider rendered, expired interaction, logout', async () => {
    const browser = new Browser(new URL(f.app.url).origin);
    // What a browser sends on navigation; oidc-provider renders HTML only when HTML is preferred.
    const headers = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    const page = (path: string) => browser.fetch(`${f.app.url}${path}`, { headers });
    const pages = {
      'unknown interaction': await page('/interaction/not-a-real-uid'),
      'authorize, unknown client': await page('/authorize?client_id=nobody&response_type=code'),
      'authorize, bad redirect_uri': await page(
        `/authorize?client_id=${f.client.clientId}&response_type=code&redirect_uri=https://evil.example/cb`,
      ),
      'logout confirmation': await page('/logout'),
      'logout, bad id_token_hint': await page('/logout?id_token_hint=x.y.z'),
    };
    for (const [what, page] of Object.entries(pages)) {
      expect(page.status, what).toBeLessThan(500);
      expectFramingRefused(page, what);
    }
    expect(pages['unknown interaction'].status).toBeGreaterThanOrEqual(400);
    expect(pages['authorize, unknown client'].status).toBe(400);
  });

  it('sends X-Frame-Options and frame-ancestors on JSON and error responses too', async () => {
    for (const path of ['/.well-known/openid-configuration', '/jwks', '/nonce', '/no-such-route']) {
      const reply = await raw(`${f.app.url}${path}`);
      expect(header(reply, 'x-frame-options'), path).toBe('DENY');
      expect(header(reply, 'content-security-policy'), path).toMatch(/frame-ancestors 'none'/);
    }
  });
});

describe('token-leakage-hygiene (SECURITY.md row 22)', () => {
  it('sends Cache-Control: no-store and Pragma: no-cache on token responses, success and error', async () => {
    const who = await f.h.person();
    const offer = await f.h.offer([CONFIGURATION], who.individualId, false);
    const form = (body: Record<string, string>) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body).toString(),
    });
    const ok = await raw(
      `${f.app.url}/token`,
      form({
        grant_type: PRE_AUTH,
        'pre-authorized_code': offer.credential_offer.grants[PRE_AUTH]['pre-authorized_code'],
      }),
    );
    expect(ok.status, ok.text).toBe(200);
    expectNoStore(ok, 'token (pre-authorized) 200');
    const bad = await raw(
      `${f.app.url}/token`,
      form({ grant_type: PRE_AUTH, 'pre-authorized_code': 'nope' }),
    );
    expect(bad.status).toBe(400);
    expectNoStore(bad, 'token (pre-authorized) 400');
    const code = await raw(
      `${f.app.url}/token`,
      form({
        grant_type: 'authorization_code',
        code: 'nope',
        code_verifier: 'x'.repeat(43),
        redirect_uri: f.client.redirectUri,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await f.client.assertion(f.app.url),
      }),
    );
    expect(code.status).toBe(400);
    expectNoStore(code, 'token (authorization_code) 400');
  });

  it('sends no-store on userinfo, nonce, PAR and credential responses, success and error', async () => {
    const bearer = { authorization: `Bearer ${f.oidcAccessToken}` };
    const userinfo = await raw(`${f.app.url}/userinfo`, { headers: bearer });
    expect(userinfo.status, userinfo.text).toBe(200);
    expectNoStore(userinfo, 'userinfo 200');
    expectNoStore(
      await raw(`${f.app.url}/userinfo`, { headers: { authorization: 'Bearer nope' } }),
      'userinfo 401',
    );

    const nonce = await raw(`${f.app.url}/nonce`, { method: 'POST' });
    expect(nonce.status).toBe(200);
    expectNoStore(nonce, 'nonce');

    const par = await raw(`${f.app.url}/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: f.client.clientId,
        response_type: 'code',
        redirect_uri: f.client.redirectUri,
        scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await f.client.assertion(f.app.url),
      }).toString(),
    });
    expect(par.status, par.text).toBe(201);
    expectNoStore(par, 'PAR 201');
    const parError = await raw(`${f.app.url}/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'client_id=nobody',
    });
    expect(parError.status).toBeGreaterThanOrEqual(400);
    expectNoStore(parError, 'PAR error');

    const vciBearer = { authorization: `Bearer ${f.vciAccessToken}`, 'content-type': 'application/json' };
    const credential = await raw(`${f.app.url}/credential`, {
      method: 'POST',
      headers: vciBearer,
      body: JSON.stringify({
        credential_configuration_id: CONFIGURATION,
        proofs: { jwt: [await proofJwt(await holderKey(), f.h.url, await f.h.nonce())] },
      }),
    });
    expect(credential.status, credential.text).toBe(200);
    expectNoStore(credential, 'credential 200');
  });

  it('sends no-store and Pragma: no-cache on credential error responses', async () => {
    const vciBearer = { authorization: `Bearer ${f.vciAccessToken}`, 'content-type': 'application/json' };
    const credentialError = await raw(`${f.app.url}/credential`, {
      method: 'POST',
      headers: vciBearer,
      body: JSON.stringify({ credential_configuration_id: CONFIGURATION }),
    });
    expect(credentialError.status).toBe(400);
    expectNoStore(credentialError, 'credential 400');
  });

  it('sends Referrer-Policy: no-referrer on every UI response and its assets', async () => {
    const { browser, url } = await interaction(false);
    for (const target of [
      url,
      `${f.app.url}/interaction-assets/ui.css`,
      `${f.app.url}/interaction-assets/otp.js`,
    ]) {
      expect(header(await browser.fetch(target), 'referrer-policy'), target).toBe('no-referrer');
    }
  });

  it('rejects an access token in the query string at userinfo (FAPI 2.0 §5.3.3.2)', async () => {
    const token = encodeURIComponent(f.oidcAccessToken);
    for (const method of ['GET', 'POST']) {
      const reply = await raw(`${f.app.url}/userinfo?access_token=${token}`, { method });
      // RFC 6750 §3.1: a request that offers the token another way than allowed is invalid_request, 400.
      expect(reply.status, `${method} ${reply.text}`).toBe(400);
      expect(JSON.parse(reply.text).error).toBe('invalid_request');
      expect(reply.text).not.toContain(IDENTITY.claims.name);
    }
  });

  it('rejects an access token in the query string at the credential endpoint', async () => {
    const reply = await raw(`${f.app.url}/credential?access_token=${encodeURIComponent(f.vciAccessToken)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        credential_configuration_id: CONFIGURATION,
        proofs: { jwt: [await proofJwt(await holderKey(), f.h.url, await f.h.nonce())] },
      }),
    });
    expect(reply.status).toBe(401);
    expect(JSON.parse(reply.text).error).toBe('invalid_token');
  });

  it('answers 303 (never 307/308) to every POST that redirects: login, OTP, consent, abort pages', async () => {
    const origin = { origin: new URL(f.app.url).origin };
    const a = await interaction(false);
    const sent = await a.browser.fetch(`${a.url}/send-otp`, {
      form: { csrf: a.csrf, individual_id: IDENTITY.individualId },
      headers: origin,
    });
    expect(sent.status, sent.text).toBe(303);
    const login = await a.browser.fetch(`${a.url}/login`, {
      form: { csrf: a.csrf, factor: 'pin', individual_id: IDENTITY.individualId, pin: IDENTITY.pin },
      headers: origin,
    });
    expect(login.status, login.text).toBe(303);
    const consent = await a.browser.fetch(`${a.url}/consent`, {
      form: { csrf: a.csrf, claim: 'name' },
      headers: origin,
    });
    expect(consent.status, consent.text).toBe(303);
    // oidc-provider then resumes the authorization with a GET and redirects to the RP.
    const { url } = await a.browser.follow(consent.location!);
    expect(new URL(url).searchParams.get('code')).toBeTruthy();

    const b = await interaction(false);
    const abort = await b.browser.fetch(`${b.url}/abort`, { form: { csrf: b.csrf }, headers: origin });
    expect(abort.status, abort.text).toBe(303);
  });

  it('answers 303 to authorization requests and to a POSTed logout confirmation', async () => {
    // POST to the authorization endpoint is off (oidc-provider's enableHttpPostMethods): GET only.
    const browser = new Browser(new URL(f.app.url).origin);
    const started = await startAuthorization(f.app, browser, f.client, { par: false });
    expect(started.reply.status).toBe(303);

    const logout = await browser.fetch(`${f.app.url}/logout`);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(logout.text)?.[1];
    expect(xsrf, logout.text).toBeTruthy();
    const confirmed = await browser.fetch(`${f.app.url}/logout/confirm`, {
      form: { xsrf: xsrf!, logout: 'yes' },
    });
    expect(confirmed.status, confirmed.text).toBe(303);
  });
});
