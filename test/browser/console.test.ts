import { readFileSync } from 'node:fs';
import jsQRModule from 'jsqr';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newWalletKey, receiveFromOffer } from '../../scripts/demo-wallet.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { operatorsOf, PASSWORD } from '../helpers/console.ts';
import { saveScreenshot } from '../helpers/screenshots.ts';
import { verifyLdpVc } from '../interop/verifiers.ts';
import { startVci, type VciHarness } from '../protocol/vci/harness.ts';

// jsqr is CommonJS with a default export: callable as the module under Node, as .default for TypeScript.
const jsQR = ((jsQRModule as unknown as { default?: typeof jsQRModule }).default ??
  jsQRModule) as unknown as (
  data: Uint8ClampedArray,
  width: number,
  height: number,
) => { data: string } | null;

/**
 * The issuer console driven by headless Chromium, as each role: an issuance officer makes an offer
 * for a person, a real wallet library (@openid4vc/openid4vci, through scripts/demo-wallet.ts)
 * redeems the offer read from the QR code on the screen, the page shows it redeemed by itself, the
 * officer revokes the credential and an independent verifier (@digitalbazaar/vc with the status
 * list, at the test clock's instant) sees it revoked; an auditor reads but cannot change anything;
 * an administrator creates a credential type with an error, sees the error by field, fixes it and
 * issues it. Screenshots of the main pages go to docs/images/ (README, "Issuer console") with UPDATE_SCREENSHOTS=1.
 */
describe('issuer console in Chromium', () => {
  let h: VciHarness;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  const violations: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
    h = await startVci();
    const operators = operatorsOf(h.app);
    await operators.add({ username: 'ada', role: 'administrator', password: PASSWORD });
    await operators.add({ username: 'omar', role: 'issuance-officer', password: PASSWORD });
    await operators.add({ username: 'aya', role: 'auditor', password: PASSWORD });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  async function signIn(username: string, lang = 'en'): Promise<Page> {
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    page.setDefaultTimeout(8000);
    page.on('console', (m) => {
      if (/Content Security Policy/.test(m.text())) violations.push(m.text());
    });
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.goto(`${h.url}/console/sign-in?lang=${lang}`);
    await page.getByLabel(lang === 'en' ? 'User name' : 'اسم المستخدم').fill(username);
    await page.getByLabel(lang === 'en' ? 'Password' : 'كلمة المرور', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: lang === 'en' ? 'Sign in' : 'تسجيل الدخول' }).click();
    await page.waitForURL(/\/console\/offers$/);
    return page;
  }

  /** The wallet's camera: the QR code read from a screenshot of the page, not from the DOM. */
  async function scanQr(page: Page): Promise<string> {
    const png = PNG.sync.read(await page.locator('.qr').screenshot());
    const qr = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    if (!qr) throw new Error('no QR code on the screen');
    return qr.data;
  }

  let issued: Record<string, unknown>;

  it('an issuance officer makes an offer; a wallet redeems the QR code; the page shows it redeemed', async () => {
    const who = await h.person();
    const page = await signIn('omar');
    await page.getByLabel('Individual ID of the person').fill(who.individualId);
    await page.getByLabel(/National ID.*NationalIdCredential_ldp_vc$/).check();
    await page.getByLabel('Protect with a transaction code sent to the person').check();
    await saveScreenshot(page, 'console-offer-form.png');
    await page.getByRole('button', { name: 'Create offer' }).click();
    await page.waitForSelector('.qr svg');
    expect(await page.textContent('#tx-code-delivery')).toMatch(/^Transaction code sent to p\*+/);
    expect(await page.textContent('#offer-state')).toBe('waiting');
    await saveScreenshot(page, 'console-offer.png');

    const offerUrl = await scanQr(page);
    expect(offerUrl).toMatch(/^openid-credential-offer:\/\/\?credential_offer_uri=/);
    expect(offerUrl).toBe(await page.inputValue('#offer-link'));
    const result = await receiveFromOffer({
      offerUrl,
      txCode: await h.txCode(who.email),
      keys: [await newWalletKey('EdDSA')],
    });
    issued = result.credentials[0] as Record<string, unknown>;
    expect((issued.credentialSubject as Record<string, unknown>).givenName).toBe('Layla');
    // No reload: console.js polls the state and the live region updates.
    await page.waitForSelector('#offer-state.state-redeemed');
    expect(await page.textContent('#offer-state')).toBe('redeemed');
    await page.close();
  });

  it('the officer finds the credential in the ledger and revokes it; an independent verifier sees it revoked', async () => {
    const now = () => new Date(h.app.clock.now());
    expect(await verifyLdpVc(issued as never, h.url, now())).toMatchObject({
      verified: true,
      revoked: false,
    });
    const page = await signIn('omar');
    await page.getByRole('link', { name: 'Ledger' }).click();
    await page.getByLabel('Configuration').selectOption('NationalIdCredential_ldp_vc');
    await page.getByLabel('Status').selectOption('issued');
    await page.getByRole('button', { name: 'Search' }).click();
    await saveScreenshot(page, 'console-ledger.png');
    const rows = page.locator('tbody tr');
    expect(await rows.count()).toBe(1);
    await rows.first().getByRole('link').click();
    expect(await page.textContent('#current-status')).toBe('valid');
    await page.getByLabel('Reason').first().selectOption('holder_request');
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.waitForSelector('#current-status.status-revoked');
    expect(await page.textContent('[role=status]')).toBe('Status is now revoked.');
    await saveScreenshot(page, 'console-ledger-record.png');
    expect(await verifyLdpVc(issued as never, h.url, now())).toMatchObject({
      verified: false,
      revoked: true,
    });
    await page.close();
  });

  it('an auditor reads every page but cannot change anything: no forms, and the console and the API refuse', async () => {
    const page = await signIn('aya', 'ar');
    expect(await page.getAttribute('html', 'dir')).toBe('rtl');
    expect(await page.locator('form[action="/console/offers"]').count()).toBe(0);
    await page.goto(`${h.url}/console/ledger`);
    await page.locator('tbody tr a').first().click();
    const recordUrl = page.url();
    expect(await page.locator('form[action$="/revoke"], form[action$="/reinstate"]').count()).toBe(0);
    await saveScreenshot(page, 'console-auditor-ar.png');
    const csrf = await page.getAttribute('input[name=csrf]', 'value');
    // What a hand-made form would send, with the auditor's cookie and CSRF token.
    const reinstate = await page.request.post(`${recordUrl}/reinstate`, {
      form: { csrf: csrf!, reason: 'holder_request' },
      headers: { origin: new URL(h.url).origin },
    });
    expect(reinstate.status()).toBe(403);
    const api = await page.request.post(
      `${new URL(h.url).origin}/admin/ledger/${recordUrl.split('/').pop()}/reinstate`,
    );
    expect(api.status()).toBe(401);
    expect((await page.request.get(`${h.url}/console/credential-types/new`)).status()).toBe(403);
    await page.goto(`${h.url}/console/audit`);
    await saveScreenshot(page, 'console-audit.png');
    expect(await verifyLdpVc(issued as never, h.url, new Date(h.app.clock.now()))).toMatchObject({
      revoked: true,
    });
    await page.close();
  });

  it('an administrator creates a credential type with an error, sees it by field, fixes it and issues it', async () => {
    const base = JSON.parse(readFileSync('credential-configurations/proof-of-age.json', 'utf8'));
    const { $comment: _comment, ...definition } = base;
    const formats = Object.fromEntries(
      Object.entries(definition.formats as Record<string, Record<string, unknown>>)
        .filter(([format]) => format === 'ldp_vc')
        .map(([format, value]) => [format, { ...value, configurationId: 'CouncilAgeCard_ldp_vc' }]),
    );
    const card = { ...definition, id: 'council-age-card', scope: 'council_age_card', formats };
    const broken = { ...card, formats: { ldp_vc: { ...formats.ldp_vc, cryptosuite: 'rot13-2025' } } };

    const page = await signIn('ada');
    await page.getByRole('link', { name: 'Credential types' }).click();
    await saveScreenshot(page, 'console-types.png');
    await page.getByRole('link', { name: 'New credential type' }).click();
    await page.getByLabel('Definition (JSON)').fill(JSON.stringify(broken, null, 2));
    await page.getByRole('button', { name: 'Save' }).click();
    const problems = page.locator('#problems');
    await problems.waitFor();
    expect(await problems.locator('.field-name').allTextContents()).toContain('/formats/ldp_vc/cryptosuite');
    expect(await page.getAttribute('#definition', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#definition', 'aria-describedby')).toContain('problems');
    await saveScreenshot(page, 'console-type-error.png');
    expect(h.app.running.parts.credentials.configurations.definition('council-age-card')).toBeUndefined();

    await page.getByLabel('Definition (JSON)').fill(JSON.stringify(card, null, 2));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/console\/credential-types\/council-age-card$/);
    expect(await page.textContent('main')).toContain('CouncilAgeCard_ldp_vc');

    const who = await h.person();
    await page.getByRole('link', { name: 'Offers' }).click();
    await page.getByLabel('Individual ID of the person').fill(who.individualId);
    await page.getByLabel(/CouncilAgeCard_ldp_vc$/).check();
    await page.getByLabel('Protect with a transaction code sent to the person').uncheck();
    await page.getByRole('button', { name: 'Create offer' }).click();
    await page.waitForSelector('.qr svg');
    expect(await page.textContent('#tx-code-delivery')).toBe('No transaction code');
    const result = await receiveFromOffer({
      offerUrl: await scanQr(page),
      keys: [await newWalletKey('EdDSA')],
    });
    const vc = result.credentials[0] as Record<string, unknown>;
    expect(await verifyLdpVc(vc as never, h.url, new Date(h.app.clock.now()))).toMatchObject({
      verified: true,
    });
    const trail = await h.app.services.audit.list({ type: 'configuration_created', limit: 5, days: 1 });
    expect(trail[0]).toMatchObject({
      configurationIds: ['CouncilAgeCard_ldp_vc'],
      operatorId: expect.any(String),
    });
    await page.close();
  });

  it('an administrator registers a wallet, adds an operator and reads what each format would issue', async () => {
    const page = await signIn('ada');
    await page.getByRole('link', { name: 'Clients' }).click();
    await page.getByRole('link', { name: 'Register a client' }).click();
    await page.getByLabel(/^Registration/).fill(
      JSON.stringify({
        client_id: 'front-desk-wallet',
        client_name: 'Front desk wallet',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['https://wallet.example/cb'],
      }),
    );
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL(/\/console\/clients\/front-desk-wallet$/);
    await page.getByRole('link', { name: 'Clients' }).click();
    expect(await page.locator('tbody tr').count()).toBeGreaterThan(0);
    await saveScreenshot(page, 'console-clients.png');

    await page.getByRole('link', { name: 'Operators' }).click();
    await page.getByLabel('User name').fill('nadia');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Role').selectOption('issuance_officer');
    await page.getByRole('button', { name: 'New operator' }).click();
    await page.waitForSelector('[role=status]');
    expect(await page.textContent('[role=status]')).toBe('Operator nadia created.');
    expect(await page.inputValue('#enrol')).toMatch(/^otpauth:\/\/totp\//);
    await saveScreenshot(page, 'console-operators.png');

    await page.getByRole('link', { name: 'Credential types' }).click();
    await page.getByRole('link', { name: 'national-id', exact: true }).click();
    const previews = page.locator('pre.preview');
    expect(await previews.count()).toBe(4);
    const ldp = JSON.parse(
      (await page.textContent('pre[aria-labelledby="preview-NationalIdCredential_ldp_vc"]'))!,
    );
    expect(ldp.credentialSubject.givenName).toBe('Amina');
    await page.locator('#preview').evaluate((heading) => heading.scrollIntoView({ block: 'start' }));
    await saveScreenshot(page, 'console-type-preview.png');

    // The other administrator pages render under the same CSP (checked by the last test).
    await page.getByRole('link', { name: 'Consents' }).click();
    await page.getByLabel('Account ID or subject').fill('nobody-known');
    await page.getByRole('button', { name: 'Search' }).click();
    expect(await page.textContent('main')).toContain('Nothing yet.');
    await page.getByRole('link', { name: 'Outbox' }).click();
    expect(await page.locator('h1').textContent()).toBe('Outbox');
    await page.getByRole('link', { name: 'Keys' }).click();
    expect(await page.getByRole('button', { name: 'Rotate credential keys' }).count()).toBe(1);
    await page.close();
  });

  it('no page broke its Content Security Policy', () => {
    expect(violations).toEqual([]);
  });
});
