import { decodeJwt } from 'jose';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchBrowser, relyingPartyPage } from '../helpers/browser.ts';
import { saveScreenshot } from '../helpers/screenshots.ts';
import { pushedAuthorization } from './pushed-authorization.ts';

// jsqr is CommonJS with a default export: callable as the module under Node, as .default for TypeScript.
const jsQR = ((jsQRModule as unknown as { default?: typeof jsQRModule }).default ??
  jsQRModule) as unknown as (
  data: Uint8ClampedArray,
  width: number,
  height: number,
) => { data: string } | null;

import { redeem, registerClient, type TestClient } from '../protocol/oidc/helpers.ts';
import {
  bindHolderKey,
  issueIdentityCredential,
  presentation,
  resolveRequest,
  respond,
  WALLET_ACR,
} from '../protocol/oidc/wallet-vp.ts';
import { holderKey, startVci, type VciHarness } from '../protocol/vci/harness.ts';

/**
 * Log in with a wallet (OpenID4VP 1.0) in Chromium: the page shows a QR code, the test reads it
 * from a screenshot with jsQR (not from the DOM), a holder built on @openid4vc/openid4vp fetches
 * the signed request and posts an SD-JWT VC presentation of a credential the service issued earlier
 * in the test, the page moves on to consent by itself, and the relying party's ID token says a
 * wallet presentation was used.
 */
describe('wallet login pages in Chromium', () => {
  let h: VciHarness;
  let client: TestClient;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  beforeAll(async () => {
    browser = await launchBrowser();
    h = await startVci();
    client = await registerClient(h.app, { client_names: { ar: 'الطرف التجريبي' } });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  async function authorizeUrl(locale: string) {
    return pushedAuthorization(h.app, client, {
      nonce: 'no',
      acr_values: WALLET_ACR,
      ui_locales: locale,
      prompt: 'consent',
      claims: JSON.stringify({ userinfo: { name: { essential: true } } }),
    });
  }

  for (const locale of ['en', 'ar']) {
    test(`${locale}: scanning the QR code logs a person in, the ID token says wallet`, async () => {
      const who = await h.person();
      const holder = await holderKey('ES256');
      const credential = await issueIdentityCredential(h, who.individualId, holder);
      await bindHolderKey(h.app, client, who.individualId, holder);

      const { page, violations, catchCallback, callback } = await relyingPartyPage(browser);
      await catchCallback();
      const { url, verifier } = await authorizeUrl(locale);
      await page.goto(url);
      expect(await page.getAttribute('html', 'dir')).toBe(locale === 'ar' ? 'rtl' : 'ltr');
      await page.click('a[href*="/wallet"]');
      await page.waitForSelector('#wallet-qr svg');
      const countdown = await page.textContent('#wallet-countdown');
      expect(countdown).toMatch(locale === 'en' ? /expires in \d+ seconds/ : /ثانية/);
      expect(await page.getAttribute('#same-device', 'href')).toMatch(
        /^openid4vp:\/\/\?client_id=x509_hash%3A/,
      );
      if (locale === 'en') await saveScreenshot(page, 'wallet-login.png');

      // The wallet's camera: the QR code read from a screenshot of the page.
      const png = PNG.sync.read(await page.screenshot());
      const qr = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
      expect(qr?.data).toMatch(/^openid4vp:\/\//);
      const resolved = await resolveRequest(qr!.data);
      expect(resolved.payload.response_mode).toBe('direct_post');
      expect(resolved.payload.dcql_query).toMatchObject({
        credentials: [{ format: 'dc+sd-jwt', require_cryptographic_holder_binding: true }],
      });
      const vp = await presentation(credential, holder, {
        nonce: resolved.nonce,
        aud: resolved.clientId,
        iat: Math.floor(h.app.clock.now() / 1000),
      });
      const answer = await respond(resolved, vp);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);

      // The page moves on by itself (polling) to the consent form.
      await page.waitForSelector('form[action$="/consent"] button');
      await page.click('form[action$="/consent"] button');
      await page.waitForURL(/rp\.example\.org\/callback/);
      const code = callback()?.searchParams.get('code');
      expect(code).toBeTruthy();
      const token = await redeem(h.app, client, code!, verifier);
      expect(token.status).toBe(200);
      const idToken = decodeJwt(token.body.id_token);
      expect(idToken.acr).toBe(WALLET_ACR);
      expect(idToken.amr).toEqual(['pop']);
      expect(violations).toEqual([]);
      await page.close();
    });
  }

  test('an expired code shows the expired state and a working "New code" button', async () => {
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    page.setDefaultTimeout(10_000);
    const { url } = await authorizeUrl('en');
    await page.goto(url);
    await page.click('a[href*="/wallet"]');
    await page.waitForSelector('#wallet-qr svg');
    const first = await page.getAttribute('#same-device', 'href');
    h.app.clock.advanceSeconds(200);
    await page.waitForSelector('#new-code:not([hidden])');
    expect(await page.textContent('#wallet-state')).toMatch(/expired/);
    await page.click('#new-code');
    await page.waitForSelector('#wallet-qr svg');
    expect(await page.getAttribute('#same-device', 'href')).not.toBe(first);
    await page.close();
  });
});
