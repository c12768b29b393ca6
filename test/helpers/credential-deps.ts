import { createMdocFormat } from '../../src/credentials/formats/mdoc.ts';
import { createIssuerCa } from '../../src/credentials/x509/issuer-ca.ts';
import { createKeyStore } from '../../src/keys/key-store.ts';
import type { KeyStore } from '../../src/keys/spi.ts';
import type { Store } from '../../src/store/spi.ts';
import { TestClock } from './clock.ts';
import { createMemoryStore } from './memory-store.ts';

/** What the credential format and status tests need: a store, a ready key store, a clock. */
export interface CredentialDeps {
  store: Store;
  keys: KeyStore;
  clock: TestClock;
  publicUrl: string;
}

/** Fixed start (2026-11-05T10:17:23Z) so rounding is visible in assertions. */
export const START = Date.UTC(2026, 10, 5, 10, 17, 23);

export async function credentialDeps(publicUrl = 'https://issuer.example:8443/vc'): Promise<CredentialDeps> {
  const clock = new TestClock(START);
  const store = createMemoryStore(clock);
  const keys = createKeyStore({
    store,
    clock,
    encryptionSecret: 'test-secret-test-secret-test-secret-0123',
    retiredKeyPublishSeconds: 3600,
  });
  await keys.init();
  return { store, keys, clock, publicUrl };
}

/** An initialised issuer CA on these deps (country UT, "Test Issuer"). */
export async function testIssuerCa(deps: CredentialDeps) {
  const ca = createIssuerCa({
    ...deps,
    encryptionSecret: 'test-secret-test-secret-test-secret-0123',
    country: 'UT',
    serviceName: 'Test Issuer',
  });
  await ca.init();
  return ca;
}

/** Fresh deps, their test issuer CA and the mdoc format built on them. */
export async function mdocIssuer(publicUrl = 'https://issuer.example') {
  const deps = await credentialDeps(publicUrl);
  const ca = await testIssuerCa(deps);
  return { deps, ca, format: createMdocFormat({ ...deps, issuerCa: ca }) };
}
