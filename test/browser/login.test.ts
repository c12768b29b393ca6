import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { launchBrowser } from '../helpers/browser.ts';
import {
  IDENTITY,
  latestOtp,
  redeem,
  registerClient,
  startOidcApp,
  type TestClient,
} from '../protocol/oidc/helpers.ts';
import { pushedAuthorization } from './pushed-authorization.ts';

const ACR = {
  otp: 'mosip:idp:acr:generated-code',
  pin: 'mosip:idp:acr:static-code',
  kbi: 'mosip:idp:acr:knowledge',
};

/** The login and consent pages driven by headless Chromium: OTP, PIN and KBI, English and Arabic. */
describe('login and consent pages in Chromium', () => {
  let app: TestApp;
  let client: TestClient;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  beforeAll(async () => {
    browser = await launchBrowser();
    app = await startOidcApp();
    client = await registerClient(app, {
      logo_uri: 'https://rp.example.org/logo.png',
      client_names: { ar: 'الطرف التجريبي' },
    });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  async function authorizeUrl(factor: keyof typeof ACR, locale: string) {
    return pushedAuthorization(app, client, {
      nonce: 'no',
      acr_values: ACR[factor],
      ui_locales: locale,
      // Always show the consent page (the same person consented in the previous flow).
      prompt: 'consent',
      claims: JSON.stringify({ userinfo: { name: { essential: true }, birthdate: null } }),
    });
  }

  for (const locale of ['en', 'ar']) {
    for (const factor of ['otp', 'pin', 'kbi'] as const) {
      test(`${factor} login and consent in ${locale} returns a code the RP can redeem`, async () => {
        // A fresh cookie jar per flow: no SSO session from the previous test.
        await browser.context.clearCookies();
        const page = await browser.context.newPage();
        page.setDefaultTimeout(5000);
        let callback: URL | undefined;
        await page.route('https://rp.example.org/**', async (route) => {
          const url = new URL(route.request().url());
          if (url.pathname === '/callback') callback = url;
          await route.fulfill({ status: 200, contentType: 'text/plain', body: 'rp' });
        });
        const { url, verifier } = await authorizeUrl(factor, locale);
        await page.goto(url);
        expect(await page.getAttribute('html', 'dir')).toBe(locale === 'ar' ? 'rtl' : 'ltr');
        expect(await page.getAttribute('html', 'lang')).toBe(locale);
        if (locale === 'en') {
          await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Test RP');
          await page.getByLabel('Individual ID').fill(IDENTITY.individualId);
          if (factor === 'otp') {
            await page.getByRole('button', { name: 'Get code' }).click();
            await page.getByLabel('One-time code').waitFor();
            await page.getByLabel('One-time code').fill(await latestOtp(app));
          } else if (factor === 'pin') {
            await page.getByLabel('PIN').fill(IDENTITY.pin);
          } else {
            await page.getByLabel('Full name').fill(IDENTITY.claims.name);
            await page.getByLabel('Date of birth').fill(IDENTITY.claims.birthdate);
          }
          await page.getByRole('button', { name: 'Verify' }).click();
          await page.getByRole('button', { name: 'Allow' }).click();
        } else {
          await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain(
            'الطرف التجريبي',
          );
          await page.fill('#f-individual_id', IDENTITY.individualId);
          if (factor === 'otp') {
            await page.click('form[action$="/send-otp"] button');
            await page.waitForSelector('#f-otp');
            expect(await page.getAttribute('html', 'dir')).toBe('rtl');
            await page.fill('#f-otp', await latestOtp(app));
          } else if (factor === 'pin') {
            await page.fill('#f-pin', IDENTITY.pin);
          } else {
            await page.fill('#f-kbi_name', IDENTITY.claims.name);
            await page.fill('#f-kbi_birthdate', IDENTITY.claims.birthdate);
          }
          await page.click('form[action$="/login"] button');
          expect(await page.getAttribute('html', 'dir')).toBe('rtl');
          await page.click('form[action$="/consent"] button');
        }
        await page.waitForURL(/rp\.example\.org\/callback/);
        expect(callback?.searchParams.get('iss')).toBe(app.url);
        const code = callback?.searchParams.get('code');
        expect(code).toBeTruthy();
        const token = await redeem(app, client, code!, verifier);
        expect(token.status).toBe(200);
        await page.close();
      });
    }
  }

  test('a wrong PIN shows an error on the page and lets the person try again', async () => {
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    const { url } = await authorizeUrl('pin', 'en');
    await page.goto(url);
    await page.getByLabel('Individual ID').fill(IDENTITY.individualId);
    await page.getByLabel('PIN').fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/not correct/);
    expect(await page.getByLabel('PIN').isVisible()).toBe(true);
    await page.close();
  });

  test('row 21: the login page does not render inside a frame', async () => {
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    const { url } = await authorizeUrl('pin', 'en');
    await page.route('https://attacker.example/**', (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: `<iframe id="f" src="${url}"></iframe>` }),
    );
    await page.goto('https://attacker.example/');
    await page.waitForTimeout(1000);
    const frame = page.frames().find((f) => f !== page.mainFrame());
    const framedInputs = frame
      ? await frame
          .locator('input')
          .count()
          .catch(() => 0)
      : 0;
    expect(framedInputs).toBe(0);
    await page.close();
  });
});
