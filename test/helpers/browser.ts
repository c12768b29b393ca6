import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless Debian Chromium through playwright-core (no browser download), with a fresh profile.
 * A missing Chromium is a test failure with instructions, never a silent skip.
 */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: run "npm test" (its pretest step installs it) or "apt-get install -y chromium"`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'issuer-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh page for a relying party's login (cookies cleared): the Content Security Policy
 * violations Chromium reports are collected, and `catchCallback` intercepts the relying party
 * (https://rp.example.org) and keeps its `/callback` URL. Call it at once, or later where
 * Playwright's interception must not be active yet (it answers CORS preflights itself).
 */
export async function relyingPartyPage(browser: { context: BrowserContext }, timeoutMs = 10_000) {
  await browser.context.clearCookies();
  const page = await browser.context.newPage();
  page.setDefaultTimeout(timeoutMs);
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  let callback: URL | undefined;
  const catchCallback = () =>
    page.route('https://rp.example.org/**', async (route) => {
      const url = new URL(route.request().url());
      if (url.pathname === '/callback') callback = url;
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'rp' });
    });
  return { page, violations, catchCallback, callback: () => callback };
}
