/**
 * `npm run demo:sbi`: a mock MOSIP SBI capture device for the demo (scripts/sbi-device.ts), so the
 * login page's biometric step works in a browser on this computer. Start `npm start` (demo mode) first:
 * it makes the device's key pair in `$DATA_DIR/demo-sbi-device.json` and registers the public key with
 * the mock identity system. The device listens on 127.0.0.1, on the first free port from 4501 to 4600.
 *
 * Environment: DATA_DIR (./data), INDIVIDUAL_ID (the demo person in front of the device; default the
 * first demo identity), SBI_PORT (a fixed port), SBI_MODE (ready | busy | fail | silent: to see each
 * state of the page).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importJWK, type JWK } from 'jose';
import { demoIdentities } from '../src/kyc/demo.ts';
import { DEMO_SBI_FILE, type DemoSbiDevice } from '../src/kyc/demo-sbi.ts';
import { type SbiBehaviour, startSbiDevice } from './sbi-device.ts';

const MODES: readonly SbiBehaviour[] = ['ready', 'busy', 'fail', 'silent'];

async function main(): Promise<void> {
  const dataDir = process.env.DATA_DIR ?? './data';
  const file = join(dataDir, DEMO_SBI_FILE);
  let device: DemoSbiDevice;
  try {
    device = JSON.parse(readFileSync(file, 'utf8')) as DemoSbiDevice;
  } catch {
    throw new Error(
      `${file} is missing: start the service in demo mode (npm start) first, with the same DATA_DIR`,
    );
  }
  const mode = (process.env.SBI_MODE ?? 'ready') as SbiBehaviour;
  if (!MODES.includes(mode)) throw new Error(`SBI_MODE must be one of ${MODES.join(', ')}`);
  const port = process.env.SBI_PORT ? Number(process.env.SBI_PORT) : undefined;
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65_535))
    throw new Error('SBI_PORT must be a port number');
  const individualId = process.env.INDIVIDUAL_ID ?? demoIdentities()[0]!.individualId;
  const key = await importJWK(device.privateJwk as JWK, 'ES256');
  const sbi = await startSbiDevice({
    key: key as Parameters<typeof startSbiDevice>[0]['key'],
    kid: device.kid,
    individualId,
    behaviour: mode,
    ...(port ? { port } : {}),
  });
  console.log(`Mock SBI capture device (${mode}) on ${sbi.url}, key ${device.kid}`);
  console.log(`It captures the demo person ${individualId}: type that Individual ID on the biometric page.`);
  const stop = () => void sbi.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: Error) => {
  console.error(`demo:sbi: ${error.message}`);
  process.exit(1);
});
