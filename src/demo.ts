import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config/defaults.ts';
import { registerDemoSbiDevice } from './kyc/demo-sbi.ts';

/**
 * Demo mode material under dataDir. Demo mode exists so `npm start` works with nothing configured;
 * it keeps secrets in plain files, which is why it is never for production.
 * - `admin-token`: the admin API bearer token, in plain text;
 * - `key-encryption-secret`: protects the generated signing keys at rest.
 * Later modules write their demo material (relying party, identities) beside them.
 */
export interface DemoMaterial {
  adminTokenFile: string;
  /** The key-encryption secret file, when the secret comes from it (KEY_ENCRYPTION_SECRET unset). */
  keySecretFile?: string;
  /** True when that file did not exist and was written now. */
  keySecretCreated: boolean;
}

export function prepareDemo(config: Config): DemoMaterial | undefined {
  if (!config.resolved.demo) return undefined;
  mkdirSync(config.resolved.dataDir, { recursive: true });
  // The demo capture device (npm run demo:sbi) is known to the mock identity system.
  registerDemoSbiDevice(config);
  const adminTokenFile = join(config.resolved.dataDir, 'admin-token');
  config.admin.token ||= readOrCreateSecret(adminTokenFile).secret;
  if (config.keys.encryptionSecret) return { adminTokenFile, keySecretCreated: false };
  const keySecretFile = join(config.resolved.dataDir, 'key-encryption-secret');
  const { secret, created } = readOrCreateSecret(keySecretFile);
  config.keys.encryptionSecret = secret;
  return { adminTokenFile, keySecretFile, keySecretCreated: created };
}

/**
 * Undoes the creation of a key-encryption secret file that turned out not to match the stored keys
 * (the previous file was deleted): the new file is removed, so it never stands in for the lost one.
 * Returns the message that names the file.
 */
export function discardNewKeySecret(demo: DemoMaterial): string | undefined {
  if (!demo.keySecretFile || !demo.keySecretCreated) return undefined;
  rmSync(demo.keySecretFile, { force: true });
  return (
    `the demo key-encryption secret file ${demo.keySecretFile} is missing, but the store holds keys ` +
    'encrypted under the secret it held: restore that file from a backup (a new secret cannot decrypt ' +
    'them, so none was kept), or set KEY_ENCRYPTION_SECRET to the old secret'
  );
}

function readOrCreateSecret(file: string): { secret: string; created: boolean } {
  if (existsSync(file)) return { secret: readFileSync(file, 'utf8').trim(), created: false };
  const secret = randomBytes(32).toString('base64url');
  // `wx`: never overwrites a file that appeared meanwhile.
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { secret, created: true };
}

/** Writes a JSON demo file under dataDir (e.g. `demo-relying-party.json`) and returns its path. */
export function writeDemoFile(config: Config, name: string, content: unknown): string {
  const file = join(config.resolved.dataDir, name);
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  return file;
}
