import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import type { Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type SbiBehaviour, type SbiDevice, startSbiDevice } from '../../scripts/sbi-device.ts';
import type { Config } from '../../src/config/defaults.ts';
import { prepareDemo } from '../../src/demo.ts';
import type { TestApp } from '../helpers/app.ts';
import { launchBrowser, relyingPartyPage } from '../helpers/browser.ts';
import { sameClockEnv } from '../helpers/clock.ts';
import {
  IDENTITY,
  type PrivateKey,
  redeem,
  registerClient,
  startOidcApp,
  type TestClient,
} from '../protocol/oidc/helpers.ts';
import { pushedAuthorization } from './pushed-authorization.ts';

const BIOMETRICS = 'mosip:idp:acr:biometrics';
const PIN = 'mosip:idp:acr:static-code';
const KID = 'browser-test-device';

/**
 * The login page's biometric step in Chromium, through the mock SBI capture service
 * (scripts/sbi-device.ts) on a loopback port from 4501 to 4600: discovery (MOSIPDISC, MOSIPDINFO),
 * a capture bound to the transaction (CAPTURE), the signed capture posted and verified by the mock
 * identity system, consent, and an ID token whose acr/amr say biometrics. Then each state the page
 * can be in: no device, busy, capture failed, timed out, capture refused by the server, no script.
 */
describe('biometric login page in Chromium', () => {
  let app: TestApp;
  let client: TestClient;
  let deviceKey: PrivateKey;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let device: SbiDevice | undefined;
  /** What demo mode registers for `npm run demo:sbi` (src/demo.ts prepareDemo, a data folder of its own). */
  const demoDir = mkdtempSync(join(tmpdir(), 'demo-sbi-'));
  const demoConfig = {
    resolved: { demo: true, dataDir: demoDir },
    admin: { token: '' },
    keys: { encryptionSecret: 'x'.repeat(32) },
    kyc: { biometric: { devices: [] } },
  } as unknown as Config;
  let demoSbi: ChildProcess | undefined;

  beforeAll(async () => {
    prepareDemo(demoConfig);
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    deviceKey = privateKey;
    browser = await launchBrowser();
    app = await startOidcApp({
      overrides: {
        kyc: {
          scryptCost: 1024,
          notify: { outboxEnabled: true },
          biometric: {
            devices: [
              { kid: KID, jwk: { ...(await exportJWK(publicKey)), alg: 'ES256' } },
              ...demoConfig.kyc.biometric.devices,
            ],
            // A short capture wait, so the timed-out state shows quickly.
            sbi: { discoveryTimeoutMs: 1000, captureTimeoutSeconds: 2 },
          },
        },
      },
    });
    client = await registerClient(app, { client_names: { ar: 'الطرف التجريبي' } });
  });
  afterAll(async () => {
    demoSbi?.kill();
    rmSync(demoDir, { recursive: true, force: true });
    await device?.stop();
    await browser?.close();
    await app?.stop();
  });

  async function useDevice(behaviour: SbiBehaviour | undefined): Promise<void> {
    await device?.stop();
    device = behaviour
      ? await startSbiDevice({
          key: deviceKey,
          kid: KID,
          individualId: IDENTITY.individualId,
          behaviour,
          // The device stamps captures with the service's clock, never the real one.
          now: () => app.clock.now(),
        })
      : undefined;
  }

  const authorizeUrl = (locale: string, acr = BIOMETRICS) =>
    pushedAuthorization(app, client, {
      nonce: 'n-bio',
      acr_values: acr,
      ui_locales: locale,
      prompt: 'consent',
      claims: JSON.stringify({ userinfo: { name: { essential: true } } }),
    });

  /** A fresh page at the biometric step; CSP violations reported by Chromium are collected. */
  async function openBiometricPage(locale = 'en', acr = BIOMETRICS) {
    const { page, violations, catchCallback, callback } = await relyingPartyPage(browser, 8000);
    // Playwright answers CORS preflights itself while a route is set (the device would then see no
    // OPTIONS), so the relying party's callback is intercepted only once the capture is done.
    const { url, verifier } = await authorizeUrl(locale, acr);
    const response = await page.goto(url);
    return { page, violations, verifier, response, catchCallback, callback };
  }

  const status = (page: Page) => page.locator('#bio-status');

  async function startCapture(page: Page) {
    await page.locator('#f-individual_id').fill(IDENTITY.individualId);
    // Keyboard only: focus the button and press Enter.
    await page.locator('#bio-start').focus();
    await page.keyboard.press('Enter');
  }

  test('a demo person logs in with a capture through the mock device (acr and amr say biometrics)', async () => {
    await useDevice('ready');
    const { page, violations, verifier, response, catchCallback, callback } = await openBiometricPage();
    // The page's CSP allows exactly the SBI loopback origins, and only for fetching.
    const csp = response!.headers()['content-security-policy']!;
    const connect = csp
      .split(';')
      .map((d) => d.trim())
      .find((d) => d.startsWith('connect-src '))!
      .split(' ')
      .slice(1);
    expect(connect).toHaveLength(100);
    expect(connect[0]).toBe('http://127.0.0.1:4501');
    expect(connect.at(-1)).toBe('http://127.0.0.1:4600');
    expect(connect.every((o) => /^http:\/\/127\.0\.0\.1:(45\d\d|4600)$/.test(o))).toBe(true);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');

    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Test RP');
    expect(await page.locator('#bio-noscript').count()).toBe(0);
    await startCapture(page);
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    await catchCallback();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(/rp\.example\.org\/callback/);
    const code = callback()?.searchParams.get('code');
    expect(code).toBeTruthy();

    // The real browser path reached the device: a CORS preflight before each SBI method, all from
    // our origin (Chromium 156; a page and a device both on loopback need no Private Network Access).
    expect(device!.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'OPTIONS /device',
      'MOSIPDISC /device',
      'OPTIONS /info',
      'MOSIPDINFO /info',
      'OPTIONS /capture',
      'CAPTURE /capture',
    ]);
    expect(new Set(device!.calls.map((c) => c.origin))).toEqual(new Set([new URL(app.url).origin]));

    const token = await redeem(app, client, code!, verifier);
    expect(token.status).toBe(200);
    const discovery = (await (await request(`${app.url}/.well-known/openid-configuration`)).body.json()) as {
      jwks_uri: string;
    };
    const { payload } = await jwtVerify(
      token.body.id_token,
      createRemoteJWKSet(new URL(discovery.jwks_uri)),
      {
        issuer: app.url,
        audience: client.clientId,
        currentDate: new Date(app.clock.now()),
      },
    );
    expect(payload.acr).toBe(BIOMETRICS);
    expect(payload.amr).toEqual(['face']);
    expect(payload.nonce).toBe('n-bio');
    expect(violations).toEqual([]);
    await page.close();
  });

  test('no device: the page says none was found, in Arabic, and the other ways to sign in stay offered', async () => {
    await useDevice(undefined);
    const { page, violations } = await openBiometricPage('ar', `${BIOMETRICS} ${PIN}`);
    expect(await page.getAttribute('html', 'dir')).toBe('rtl');
    if (!(await page.locator('#biometric').count()))
      await page.getByRole('link', { name: 'القياسات الحيوية' }).click();
    await expect(page.locator('#bio-start').textContent()).resolves.toBe('التقط وسجّل الدخول');
    await startCapture(page);
    await page.waitForSelector('#bio-status[data-state="noDevice"]');
    await expect(status(page).textContent()).resolves.toContain('لم يتم العثور على جهاز التقاط');
    expect(await page.getByRole('link', { name: 'الرقم السري' }).count()).toBe(1);
    // The button can be pressed again from the keyboard.
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('bio-start');
    expect(violations).toEqual([]);
    await page.close();
  });

  for (const [behaviour, state, text] of [
    ['silent', 'timedOut', 'did not answer in time'],
    ['busy', 'busy', 'busy with another capture'],
    ['fail', 'failed', 'did not succeed'],
  ] as const) {
    test(`${behaviour} device: the page shows the ${state} state and lets the person retry`, async () => {
      await useDevice(behaviour);
      const { page } = await openBiometricPage();
      const started = Date.now();
      await startCapture(page);
      await page.waitForSelector(`#bio-status[data-state="${state}"]`);
      await expect(status(page).textContent()).resolves.toContain(text);
      if (behaviour === 'silent') expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
      expect(await page.locator('#bio-start').isEnabled()).toBe(true);
      expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('bio-start');
      await page.close();
    });
  }

  test('npm run demo:sbi: the demo device demo mode registered lets the demo person log in', async () => {
    await useDevice(undefined);
    expect(demoConfig.kyc.biometric.devices.map((d) => d.kid)).toEqual(['demo-sbi-device']);
    const child = spawn(process.execPath, ['scripts/demo-sbi.ts'], {
      cwd: join(import.meta.dirname, '../..'),
      env: {
        PATH: process.env.PATH ?? '',
        ...sameClockEnv(),
        DATA_DIR: demoDir,
        INDIVIDUAL_ID: IDENTITY.individualId,
      },
    });
    demoSbi = child;
    const started = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk) => {
        out += chunk;
        if (out.includes('\n')) resolve(out);
      });
      child.on('exit', (code) => reject(new Error(`demo:sbi exited ${code}`)));
    });
    expect(started).toMatch(/on http:\/\/127\.0\.0\.1:(45\d\d|4600), key demo-sbi-device/);
    const { page, verifier, catchCallback, callback } = await openBiometricPage();
    await startCapture(page);
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    await catchCallback();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(/rp\.example\.org\/callback/);
    const token = await redeem(app, client, callback()!.searchParams.get('code')!, verifier);
    expect(token.status).toBe(200);
    child.kill();
    demoSbi = undefined;
    await page.close();
  });

  test('without script the page says the capture device is needed and offers the other ways', async () => {
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Emulation.setScriptExecutionDisabled', { value: true });
    const { url } = await authorizeUrl('en', `${BIOMETRICS} ${PIN}`);
    await page.goto(url);
    if (!(await page.locator('#biometric').count()))
      await page.getByRole('link', { name: 'Biometrics' }).click();
    // Rendered only without script (with script, <noscript> holds text, not a <p>).
    expect(await page.locator('#bio-noscript').isVisible()).toBe(true);
    await expect(page.locator('#bio-noscript').textContent()).resolves.toContain('needs the capture device');
    expect(await page.locator('#bio-form').isVisible()).toBe(false);
    await page.getByRole('link', { name: 'PIN' }).click();
    expect(await page.getByLabel('PIN').isVisible()).toBe(true);
    await page.close();
  });

  test('a capture of someone else than the ID typed is refused by the identity system', async () => {
    await useDevice('ready');
    const { page } = await openBiometricPage();
    await page.locator('#f-individual_id').fill('5550009999');
    await page.locator('#bio-start').click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('capture was not accepted');
    expect(await page.locator('#bio-start').isVisible()).toBe(true);
    await page.close();
  });
});
