import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { readDocument } from '../helpers/openapi.ts';

const operationCount = (name: 'admin' | 'identity-registry') =>
  Object.values(readDocument(name).paths ?? {}).flatMap((item) =>
    ['get', 'put', 'post', 'delete', 'patch'].filter((m) => (item as Record<string, unknown>)[m]),
  ).length;

/**
 * The browsable page (/api-docs/) in Chromium under its CSP: Swagger UI loads each document with
 * the admin token typed into the page and renders every operation, and the browser reports no CSP
 * violation (no eval, no inline script or style, nothing from another origin). With
 * OPENAPI_SCREENSHOT=<file> it also saves the screenshot the README shows.
 */
describe('the API documents page', () => {
  let app: TestApp;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  beforeAll(async () => {
    app = await startTestApp({ env: { DEMO: 'on' }, overrides: { kyc: { scryptCost: 1024 } } });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('renders both documents with the admin token, without a CSP violation', async () => {
    const page = await browser.context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    const outside: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(app.url) && !request.url().startsWith('data:'))
        outside.push(request.url());
    });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${app.url}/api-docs/`);
    for (const name of ['admin', 'identity-registry'] as const) {
      await page.fill('#token', app.adminToken);
      await page.selectOption('#document', name);
      await page.click('button[type=submit]');
      const operations = page.locator('.opblock');
      await operations.nth(operationCount(name) - 1).waitFor({ timeout: 20_000 });
      expect(await operations.count()).toBe(operationCount(name));
      if (name === 'admin' && process.env.OPENAPI_SCREENSHOT) {
        await page.screenshot({ path: process.env.OPENAPI_SCREENSHOT });
      }
    }
    expect(await page.textContent('.information-container')).toContain('Identity registry REST contract');
    expect(violations).toEqual([]);
    expect(outside).toEqual([]);
    await page.close();
  });

  it('shows nothing without the token', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${app.url}/api-docs/`);
    await page.fill('#token', 'not-the-token');
    await page.click('button[type=submit]');
    await page
      .waitForSelector('.errors-wrapper, .loading-container .errors', { timeout: 20_000 })
      .catch(() => {});
    expect(await page.locator('.opblock').count()).toBe(0);
    await page.close();
  });
});
