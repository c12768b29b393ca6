import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config/defaults.ts';

/**
 * Demo mode material under dataDir. Demo mode exists so `npm start` works with nothing configured;
 * it keeps secrets in plain files, which is why it is never for production.
 * - `admin-token`: the admin API bearer token, in plain text;
 * - `key-encryption-secret`: protects the generated signing keys at rest.
 * Later modules write their demo material (relying party, identities) beside them.
 */
export function prepareDemo(config: Config): { adminTokenFile: string } | undefined {
  if (!config.resolved.demo) return undefined;
  mkdirSync(config.resolved.dataDir, { recursive: true });
  const adminTokenFile = join(config.resolved.dataDir, 'admin-token');
  config.admin.token ||= readOrCreateSecret(adminTokenFile);
  config.keys.encryptionSecret ||= readOrCreateSecret(join(config.resolved.dataDir, 'key-encryption-secret'));
  return { adminTokenFile };
}

function readOrCreateSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}

/** Writes a JSON demo file under dataDir (e.g. `demo-relying-party.json`) and returns its path. */
export function writeDemoFile(config: Config, name: string, content: unknown): string {
  const file = join(config.resolved.dataDir, name);
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  return file;
}
