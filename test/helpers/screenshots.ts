import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where a browser test writes a screenshot: docs/images/ (the README's pictures) only when
 * `UPDATE_SCREENSHOTS=1`, otherwise a temporary directory, so a test run leaves the tree clean.
 */
export function screenshotPath(name: string): string {
  const dir = process.env.UPDATE_SCREENSHOTS === '1' ? 'docs/images' : join(tmpdir(), 'idissuer-screenshots');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
