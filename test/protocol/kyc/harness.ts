import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Writable } from 'node:stream';
import { createAuditLog } from '../../../src/audit/audit.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { createLogger } from '../../../src/http/logger.ts';
import { createMetrics } from '../../../src/http/metrics.ts';
import type { KeyStore } from '../../../src/keys/spi.ts';
import { createKycContext, type KycContext } from '../../../src/kyc/context.ts';
import type { Identity, IdentityInput } from '../../../src/kyc/identity-store.ts';
import type { Notifications, OutgoingMessage } from '../../../src/kyc/notifiers/index.ts';
import { createRegistry, type KycRegistry } from '../../../src/kyc/registry.ts';
import type { IdentitySystem } from '../../../src/kyc/spi.ts';
import type { Services } from '../../../src/services.ts';
import { openStore } from '../../../src/store/index.ts';
import { TestClock } from '../../helpers/clock.ts';

export interface KycHarness {
  services: Services;
  clock: TestClock;
  registry: KycRegistry;
  context: KycContext;
  mock: IdentitySystem;
  /** Messages handed to the notifier (a capturing stub). */
  sent: OutgoingMessage[];
  logs: Record<string, unknown>[];
  /** Every stored document and counter as raw JSON text, straight from the SQLite file. */
  rawRows(): string[];
  /** Runs SQL on the database file (to tamper with records). */
  db: DatabaseSync;
  close(): Promise<void>;
}

export const person = (overrides: Partial<IdentityInput> = {}): IdentityInput => ({
  individualId: '4455667788',
  claims: {
    name: 'Nadia Karim',
    'name#ar': 'نادية كريم',
    given_name: 'Nadia',
    'given_name#ar': 'نادية',
    family_name: 'Karim',
    'family_name#ar': 'كريم',
    birthdate: '1991-03-09',
    gender: 'female',
    email: 'nadia.karim@example.org',
    phone_number: '+971501234567',
    address: { locality: 'Sharjah', country: 'AE' },
    'address#ar': { locality: 'الشارقة', country: 'AE' },
  },
  pin: '246810',
  password: 'Desert-Rose-91',
  ...overrides,
});

/**
 * The kyc module's pieces over a real embedded store (SQLite file in a temp folder), a manual
 * clock and a capturing notifier, without the HTTP app.
 */
export async function kycHarness(
  kyc: Record<string, unknown> = {},
  env: Record<string, string> = {},
): Promise<KycHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'kyc-test-'));
  const file = join(dir, 'store.db');
  const config = loadConfig({
    env: { DEMO: 'off', DATA_DIR: dir, KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64url'), ...env },
    overrides: { kyc: { scryptCost: 1024, ...kyc } },
  });
  const clock = new TestClock(Date.UTC(2026, 10, 25, 12, 0, 0));
  const store = await openStore({ kind: 'embedded', file }, clock, 0);
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  const services: Services = {
    config,
    clock,
    store,
    keys: {} as KeyStore,
    logger: createLogger('info', stream),
    metrics: createMetrics({ defaultMetrics: false }),
    audit: createAuditLog({
      store,
      clock,
      logger: createLogger('info', stream),
      encryptionSecret: config.keys.encryptionSecret,
    }),
  };
  const sent: OutgoingMessage[] = [];
  const notifications: Notifications = {
    outboxEnabled: true,
    async deliver(message) {
      sent.push(message);
    },
  };
  const context = createKycContext(services, { notifications });
  const registry = createRegistry(services, context);
  const db = new DatabaseSync(file);
  return {
    services,
    clock,
    registry,
    context,
    mock: registry.names().includes('mock') ? registry.get('mock') : (undefined as unknown as IdentitySystem),
    sent,
    logs,
    db,
    rawRows: () => [
      ...(db.prepare('SELECT body FROM docs').all() as { body: string }[]).map((row) => row.body),
      ...(db.prepare('SELECT key, value FROM counters').all() as { key: string }[]).map((row) =>
        JSON.stringify(row),
      ),
    ],
    async close() {
      if (!db.isOpen) return;
      db.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The code in the last message sent. */
export const lastCode = (h: KycHarness): string => /\b(\d{6,10})\b/.exec(h.sent.at(-1)?.text ?? '')![1]!;

export const createPerson = (h: KycHarness, overrides: Partial<IdentityInput> = {}): Promise<Identity> =>
  h.context.identities.create(person(overrides));

let counter = 0;
export const tx = (clientId = 'rp-1') => ({
  transactionId: `tx-${++counter}-${randomBytes(4).toString('hex')}`,
  clientId,
});
