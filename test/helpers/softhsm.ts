import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's softhsm2 package (scripts/test-prerequisites.sh installs it). */
export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsmToken {
  module: string;
  label: string;
  pin: string;
  /** The keys.pkcs11 configuration for this token. */
  config: { module: string; tokenLabel: string; pin: string };
  remove(): void;
}

/**
 * A fresh SoftHSM2 token in a temporary directory, initialised with softhsm2-util. SOFTHSM2_CONF
 * is set for this process, so it must be called before the module is first loaded (SoftHSM reads
 * its configuration at C_Initialize; vitest runs each test file in its own process).
 */
export function softHsmToken(label = `issuer-test-${randomBytes(4).toString('hex')}`): SoftHsmToken {
  if (!existsSync(SOFTHSM_MODULE)) {
    throw new Error(
      `${SOFTHSM_MODULE} is missing: install Debian's softhsm2 (scripts/test-prerequisites.sh)`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'softhsm-'));
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens);
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = conf;
  const pin = randomBytes(6).toString('hex');
  execFileSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', randomBytes(6).toString('hex')],
    { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: 'ignore' },
  );
  return {
    module: SOFTHSM_MODULE,
    label,
    pin,
    config: { module: SOFTHSM_MODULE, tokenLabel: label, pin },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
