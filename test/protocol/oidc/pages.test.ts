import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import {
  Browser,
  IDENTITY,
  latestOtp,
  registerClient,
  startAuthorization,
  startOidcApp,
  type TestClient,
} from './helpers.ts';

/** The server-rendered pages without a browser: labels, CSP, error states, OTP steps. */
describe('login pages', () => {
  let app: TestApp;
  let client: TestClient;
  let origin: string;
  beforeAll(async () => {
    app = await startOidcApp();
    client = await registerClient(app, { logo_uri: 'https://cdn.rp.example.org/logo.png' });
    origin = new URL(app.url).origin;
  });
  afterAll(async () => app.stop());

  const open = async (options = {}) => {
    const browser = new Browser(origin);
    const { interaction } = await startAuthorization(app, browser, client, options);
    const page = await browser.fetch(interaction);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)![1]!;
    return { browser, interaction, page, csrf };
  };

  test('the login page has the stable labels, the RP logo, a strict CSP and no inline script', async () => {
    const { page } = await open({ acr_values: 'mosip:idp:acr:generated-code' });
    expect(page.status).toBe(200);
    expect(page.text).toContain('<label for="f-individual_id">Individual ID</label>');
    expect(page.text).toContain('>Get code</button>');
    expect(page.text).toContain('>Cancel</button>');
    expect(page.text).toContain('src="https://cdn.rp.example.org/logo.png"');
    expect(page.text).not.toMatch(/<script>|<style>| on\w+="/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain('img-src');
    expect(csp).toContain('https://cdn.rp.example.org');
    expect(csp).toContain("form-action 'self' https://rp.example.org");
  });

  test('every factor the ACRs allow is offered, each reachable without JavaScript', async () => {
    const { page, browser, interaction } = await open();
    for (const label of ['One-time code', 'PIN', 'Password', 'Personal details'])
      expect(page.text).toContain(label);
    const pin = await browser.fetch(`${interaction}?factor=pin`);
    expect(pin.text).toContain('<label for="f-pin">PIN</label>');
    expect(pin.text).toContain('>Verify</button>');
  });

  test('OTP: Get code shows where it went and a resend wait; a wrong code says what to do next', async () => {
    const { browser, interaction, csrf } = await open({ acr_values: 'mosip:idp:acr:generated-code' });
    const sent = await browser.fetch(`${interaction}/send-otp`, {
      form: { csrf, individual_id: IDENTITY.individualId },
      headers: { origin },
    });
    expect(sent.status).toBe(303);
    const step2 = await browser.fetch(sent.location!);
    expect(step2.text).toContain('We sent a code to');
    expect(step2.text).toContain('<label for="f-otp">One-time code</label>');
    expect(step2.text).toMatch(/data-seconds="\d+"/);
    expect(step2.text).toContain('interaction-assets/otp.js');
    expect(step2.text).not.toContain(IDENTITY.claims.phone_number);
    const wrong = await browser.fetch(`${interaction}/login`, {
      form: { csrf, factor: 'otp', otp: '000000' },
      headers: { origin },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('The code is not correct or has expired');
    const right = await browser.fetch(`${interaction}/login`, {
      form: { csrf, factor: 'otp', otp: await latestOtp(app) },
      headers: { origin },
    });
    expect(right.status).toBe(303);
  });

  test('an expired transaction gets a localized page that says to start again', async () => {
    const { browser, interaction } = await open({ ui_locales: 'ar' });
    app.clock.advanceSeconds(301);
    const page = await browser.fetch(`${interaction}?ui_locales=ar`);
    expect(page.status).toBe(401);
    expect(page.text).toContain('dir="rtl"');
    expect(page.text).toContain('انتهت صلاحية');
    const english = await browser.fetch(interaction);
    expect(english.text).toContain('Go back to the application and start again');
  });

  test('Cancel sends the RP access_denied with iss', async () => {
    const { browser, interaction, csrf } = await open();
    const cancelled = await browser.fetch(`${interaction}/abort`, { form: { csrf }, headers: { origin } });
    const { url } = await browser.follow(cancelled.location!);
    const callback = new URL(url);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('iss')).toBe(app.url);
  });
});
