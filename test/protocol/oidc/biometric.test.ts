import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { captureIndividualHash } from '../../../src/kyc/biometric.ts';
import { sha256 } from '../../../src/kyc/crypto.ts';
import type { TestApp } from '../../helpers/app.ts';
import { beginLogin, type Login } from './factor-helpers.ts';
import { IDENTITY, type PrivateKey, registerClient, startOidcApp, type TestClient } from './helpers.ts';

/** Marks the capture's own bytes: none of it may reach logs or the database. */
const SENTINEL = 'BIOSENTINEL';
const ACR = 'mosip:idp:acr:biometrics';

describe('row 48 biometric-factor-handling through the interaction API', () => {
  let app: TestApp;
  let client: TestClient;
  let device: PrivateKey;
  const captures: string[] = [];

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    device = privateKey;
    app = await startOidcApp({
      overrides: {
        store: { embeddedFile: 'biometric.db' },
        kyc: {
          scryptCost: 1024,
          notify: { outboxEnabled: true },
          lockout: { maxFailuresPerIndividual: 100 },
          biometric: {
            devices: [{ kid: 'test-device-1', jwk: { ...(await exportJWK(publicKey)), alg: 'ES256' } }],
          },
        },
      },
    });
    client = await registerClient(app);
  });
  afterAll(async () => app.stop());

  const payload = (transactionId: string, extra: Record<string, unknown> = {}) => ({
    transactionId,
    individualIdHash: captureIndividualHash(IDENTITY.individualId),
    captureHash: sha256(`${SENTINEL} face sample bytes`),
    timestamp: new Date(app.clock.now()).toISOString(),
    // SBI: the origin of the page that asked for the capture.
    domainUri: app.url,
    bioType: 'Face',
    deviceSerial: `${SENTINEL}-SERIAL`,
    quality: `${SENTINEL}${'q'.repeat(300)}`,
    ...extra,
  });
  const sign = async (body: Record<string, unknown>, kid = 'test-device-1') => {
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(body)))
      .setProtectedHeader({ alg: 'ES256', kid })
      .sign(device);
    captures.push(jws);
    return jws;
  };
  const begin = () => beginLogin(app, client, { acr_values: ACR });
  const expectRejected = async (login: Login, capture: string) => {
    const reply = await login.authenticate(IDENTITY.individualId, 'biometric', capture);
    expect(reply.status, reply.text).toBe(401);
    expect(reply.json()).toMatchObject({ error: 'auth_failed' });
    expect((await login.browser.fetch(`${login.interaction}/api`)).json().authenticated).toBe(false);
  };

  test('a fresh capture signed by the registered device and bound to the transaction logs in (acr biometrics)', async () => {
    const login = await begin();
    expect(login.details.factors).toContain('biometric');
    const capture = await sign(payload(login.details.transaction_id));
    expect(capture.length).toBeGreaterThanOrEqual(500);
    const reply = await login.authenticate(IDENTITY.individualId, 'biometric', capture);
    expect(reply.status, reply.text).toBe(200);

    // Replayed into another transaction: refused.
    await expectRejected(await begin(), capture);
  });

  test('unsigned, unknown-device, other-site, undersize, oversize and stale captures are refused', async () => {
    const unsignedLogin = await begin();
    const header = Buffer.from(JSON.stringify({ alg: 'none', kid: 'test-device-1' })).toString('base64url');
    const body = Buffer.from(JSON.stringify(payload(unsignedLogin.details.transaction_id))).toString(
      'base64url',
    );
    captures.push(`${header}.${body}.`);
    await expectRejected(unsignedLogin, `${header}.${body}.`);

    const unknownDevice = await begin();
    await expectRejected(
      unknownDevice,
      await sign(payload(unknownDevice.details.transaction_id), 'other-device'),
    );

    // Asked for by another site's page (SBI domainUri), though for this transaction: refused.
    const elsewhere = await begin();
    await expectRejected(
      elsewhere,
      await sign(payload(elsewhere.details.transaction_id, { domainUri: 'https://elsewhere.example' })),
    );

    const small = await begin();
    const undersize = await sign({ transactionId: small.details.transaction_id });
    expect(undersize.length).toBeLessThan(500);
    await expectRejected(small, undersize);

    const large = await begin();
    const oversize = await sign(payload(large.details.transaction_id, { quality: SENTINEL.repeat(45_500) }));
    expect(oversize.length).toBeGreaterThan(500_000);
    await expectRejected(large, oversize);

    const old = await begin();
    const stale = await sign(
      payload(old.details.transaction_id, { timestamp: new Date(app.clock.now() - 121_000).toISOString() }),
    );
    await expectRejected(old, stale);
  });

  test('no capture, nor any part of one, is in the logs or the database', async () => {
    expect(captures.length).toBe(7);
    const logs = JSON.stringify(app.logs);
    const db = new DatabaseSync(join(app.dataDir, 'biometric.db'), { readOnly: true });
    const rows = [
      ...(db.prepare('SELECT body FROM docs').all() as { body: string }[]).map((r) => r.body),
      ...(db.prepare('SELECT key FROM counters').all() as { key: string }[]).map((r) => r.key),
    ].join('\n');
    db.close();
    expect(rows.length).toBeGreaterThan(0);
    for (const haystack of [logs, rows]) {
      expect(haystack).not.toContain(SENTINEL);
      for (const capture of captures) {
        for (const part of capture.split('.').filter((p) => p.length > 20))
          expect(haystack).not.toContain(part);
      }
    }
  });
});
