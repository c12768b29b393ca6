import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/defaults.ts';

/**
 * The demo capture device (`npm run demo:sbi`, scripts/demo-sbi.ts): demo mode keeps its key pair in
 * `$DATA_DIR/demo-sbi-device.json` (made once, like the other demo secrets, in a plain file) and
 * registers its public key with the mock identity system (config `kyc.biometric.devices`), so the
 * device's captures verify. Never for production: the private key sits in a file.
 */
export const DEMO_SBI_FILE = 'demo-sbi-device.json';
export const DEMO_SBI_KID = 'demo-sbi-device';

export interface DemoSbiDevice {
  readonly kid: string;
  readonly privateJwk: Record<string, unknown>;
  readonly publicJwk: Record<string, unknown>;
}

export function registerDemoSbiDevice(config: Config): DemoSbiDevice {
  const file = join(config.resolved.dataDir, DEMO_SBI_FILE);
  let device: DemoSbiDevice;
  if (existsSync(file)) {
    device = JSON.parse(readFileSync(file, 'utf8')) as DemoSbiDevice;
  } else {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    device = {
      kid: DEMO_SBI_KID,
      privateJwk: { ...privateKey.export({ format: 'jwk' }), alg: 'ES256' },
      publicJwk: { ...publicKey.export({ format: 'jwk' }), alg: 'ES256' },
    };
    // `wx`: never overwrites a file that appeared meanwhile.
    writeFileSync(file, `${JSON.stringify(device, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  }
  const biometric = config.kyc.biometric;
  if (!biometric.devices.some((d) => d.kid === device.kid)) {
    // A new array: the defaults' array is shared.
    biometric.devices = [...biometric.devices, { kid: device.kid, jwk: device.publicJwk }];
  }
  return device;
}
