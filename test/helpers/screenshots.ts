import type { Page } from 'playwright-core';

/**
 * The README's pictures (docs/images/) are taken by the browser tests, but only when
 * `UPDATE_SCREENSHOTS=1`: a normal run leaves the tree clean and does not depend on Chromium's
 * screenshot capture (which fails now and then on a loaded machine, e.g. mid-navigation). The page
 * has settled (load event) before the picture is taken.
 */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return;
  await page.waitForLoadState('load');
  await page.screenshot({ path: `docs/images/${name}` });
}
