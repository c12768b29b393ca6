import { decodeJwt } from 'jose';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { launchBrowser, relyingPartyPage } from '../helpers/browser.ts';
import { saveScreenshot } from '../helpers/screenshots.ts';
import { IDENTITY, redeem, registerClient, startOidcApp, type TestClient } from '../protocol/oidc/helpers.ts';
import {
  bindWalletKey,
  LINKED_ACR,
  linkCodeOf,
  newWalletKey,
  signInByLink,
} from '../protocol/oidc/linked-wallet.ts';
import { pushedAuthorization } from './pushed-authorization.ts';

// jsqr is CommonJS with a default export: callable as the module under Node, as .default for TypeScript.
const jsQR = ((jsQRModule as unknown as { default?: typeof jsQRModule }).default ??
  jsQRModule) as unknown as (
  data: Uint8ClampedArray,
  width: number,
  height: number,
) => { data: string } | null;

/**
 * eSignet's linked-wallet login in Chromium: the login page offers the linked wallet, its page shows
 * a QR code that the test reads from a screenshot with jsQR (not from the DOM), a wallet stand-in
 * (test/protocol/oidc/linked-wallet.ts, eSignet's wallet-side requests) links the transaction by
 * the code and signs the challenge with the key it bound after a one-time code; the page, polling,
 * moves on to consent by itself, and the relying party's ID token says linked wallet.
 */
describe('linked-wallet login pages in Chromium', () => {
  let app: TestApp;
  let client: TestClient;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  beforeAll(async () => {
    browser = await launchBrowser();
    app = await startOidcApp();
    client = await registerClient(app, { client_names: { ar: 'الطرف التجريبي' } });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  async function openLinkPage(locale: string) {
    const { page, violations, catchCallback, callback } = await relyingPartyPage(browser);
    await catchCallback();
    const { url, verifier } = await pushedAuthorization(app, client, {
      acr_values: LINKED_ACR,
      ui_locales: locale,
      prompt: 'consent',
      nonce: 'no',
      claims: JSON.stringify({ userinfo: { name: { essential: true } } }),
    });
    await page.goto(url);
    expect(await page.getAttribute('html', 'dir')).toBe(locale === 'ar' ? 'rtl' : 'ltr');
    await page.click('a[href*="/linked-wallet"]');
    await page.waitForSelector('#wallet-qr svg');
    return { page, violations, verifier, callback };
  }

  /** The wallet's camera: the QR code read from a screenshot of the page. */
  async function scan(page: Awaited<ReturnType<typeof openLinkPage>>['page']): Promise<string> {
    const png = PNG.sync.read(await page.screenshot());
    const qr = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    expect(qr?.data).toMatch(/^io\.mosip\.residentapp\.inji:\/\/wla-auth\?linkCode=/);
    return qr!.data;
  }

  for (const locale of ['en', 'ar']) {
    test(`${locale}: scanning the link code with a linked wallet logs a person in, the ID token says linked wallet`, async () => {
      const wallet = await newWalletKey();
      await bindWalletKey(app, client, IDENTITY.individualId, wallet);
      const { page, violations, verifier, callback } = await openLinkPage(locale);
      expect(await page.textContent('h1')).toBe(
        locale === 'en' ? 'Log in with a linked wallet' : 'تسجيل الدخول بمحفظة مرتبطة',
      );
      expect(await page.textContent('#wallet-countdown')).toMatch(
        locale === 'en' ? /expires in \d+ seconds/ : /ثانية/,
      );
      if (locale === 'en') await saveScreenshot(page, 'linked-wallet-login.png');
      const deepLink = await scan(page);
      expect(linkCodeOf(deepLink).linkCode).toMatch(/^[A-Za-z0-9]{15}$/);

      const { linked, answer } = await signInByLink(app, deepLink, IDENTITY.individualId, wallet);
      expect(linked.status, JSON.stringify(linked.body)).toBe(200);
      expect(answer?.status, JSON.stringify(answer?.body)).toBe(200);

      // The page moves on by itself (polling) to the consent form.
      await page.waitForSelector('form[action$="/consent"] button');
      await page.click('form[action$="/consent"] button');
      await page.waitForURL(/rp\.example\.org\/callback/);
      const code = callback()?.searchParams.get('code');
      expect(code).toBeTruthy();
      const token = await redeem(app, client, code!, verifier);
      expect(token.status).toBe(200);
      const idToken = decodeJwt(token.body.id_token);
      expect(idToken.acr).toBe(LINKED_ACR);
      expect(idToken.amr).toEqual(['hwk']);
      expect(violations).toEqual([]);
      await page.close();
    });
  }

  test('a wallet whose key is not linked to the person: the page says so and offers a new code', async () => {
    const stranger = await newWalletKey();
    const { page } = await openLinkPage('ar');
    const { answer } = await signInByLink(app, await scan(page), IDENTITY.individualId, stranger);
    expect(answer?.status).toBe(401);
    await page.waitForSelector('#new-code:not([hidden])');
    expect(await page.textContent('#wallet-state')).toContain('مفتاحها غير مرتبط');
    await page.close();
  });

  test('an expired link code shows the expired state and a working "New code" button', async () => {
    const { page } = await openLinkPage('en');
    const first = await page.getAttribute('#same-device', 'href');
    app.clock.advanceSeconds(61);
    await page.waitForSelector('#new-code:not([hidden])');
    expect(await page.textContent('#wallet-state')).toMatch(/expired/);
    await page.click('#new-code');
    await page.waitForSelector('#wallet-qr svg');
    expect(await page.getAttribute('#same-device', 'href')).not.toBe(first);
    await page.close();
  });
});
