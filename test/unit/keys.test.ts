import { createPublicKey, sign, verify } from 'node:crypto';
import { inspect } from 'node:util';
import { calculateJwkThumbprint } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { listKeys, rotateKeys } from '../../src/keys/cli-commands.ts';
import { credentialJwks, didDocument } from '../../src/keys/documents.ts';
import { createKeyStore, KEYS_COLLECTION, type KeyRecord } from '../../src/keys/key-store.ts';
import { KeyDecryptionFailed, type KeyStore } from '../../src/keys/spi.ts';
import type { Store } from '../../src/store/spi.ts';
import { createMemoryStore } from '../helpers/memory-store.ts';

const SECRET = 'unit-test-key-encryption-secret-0123456789';
const PUBLISH_SECONDS = 3600;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];
const PUBLIC_URL = 'https://id.example.gov';

const opened: Store[] = [];

/** The embedded adapter once src/store/index.ts has landed, else the in-memory SPI double. */
async function openTestStore(clock: ManualClock): Promise<Store> {
  const modulePath = '../../src/store/index.ts';
  const real = (await import(/* @vite-ignore */ modulePath).catch(() => undefined)) as
    | { openStore?: (options: unknown, clock: ManualClock, sweepSeconds: number) => Promise<Store> }
    | undefined;
  const store = real?.openStore
    ? await real.openStore({ kind: 'embedded', file: ':memory:' }, clock, 60)
    : createMemoryStore(clock);
  opened.push(store);
  return store;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

function keyStore(store: Store, clock: ManualClock, encryptionSecret = SECRET): KeyStore {
  return createKeyStore({ store, clock, encryptionSecret, retiredKeyPublishSeconds: PUBLISH_SECONDS });
}

async function started(): Promise<{ store: Store; clock: ManualClock; keys: KeyStore }> {
  const clock = new ManualClock(Date.UTC(2025, 0, 1));
  const store = await openTestStore(clock);
  const keys = keyStore(store, clock);
  await keys.init();
  return { store, clock, keys };
}

const records = (store: Store) => store.collection<KeyRecord>(KEYS_COLLECTION).find({});

/** Every object key anywhere in a JSON value. */
function jsonKeys(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(jsonKeys);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, inner]) => [key, ...jsonKeys(inner)]);
  }
  return [];
}

describe('key store', () => {
  it('generates Ed25519 and P-256 credential keys and RSA and P-256 OIDC keys on first start', async () => {
    const { keys, store } = await started();
    const describeKeys = (purpose: 'credential' | 'oidc') =>
      keys.published(purpose).map((k) => [k.alg, k.status, k.publicKey.asymmetricKeyType]);
    expect(describeKeys('credential').sort()).toEqual([
      ['ES256', 'active', 'ec'],
      ['EdDSA', 'active', 'ed25519'],
    ]);
    expect(describeKeys('oidc').sort()).toEqual([
      ['ES256', 'active', 'ec'],
      ['RS256', 'active', 'rsa'],
    ]);
    expect(keys.active('oidc', 'RS256').publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(keys.active('credential', 'ES256').publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    // OpenID4VCI 1.0 §10: a P-256 key-agreement key for credential request encryption, published
    // for encryption only (§12.2.4 credential_request_encryption).
    const encryption = keys.active('encryption', 'ECDH-ES');
    expect(encryption.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(encryption.publicJwk).toMatchObject({ kid: encryption.kid, alg: 'ECDH-ES', use: 'enc' });
    expect(await records(store)).toHaveLength(5);
  });

  it('uses the RFC 7638 thumbprint of the public key as kid', async () => {
    const { keys } = await started();
    for (const key of [...keys.published('credential'), ...keys.published('oidc')]) {
      const jwk = key.publicKey.export({ format: 'jwk' });
      expect(key.kid).toBe(await calculateJwkThumbprint(jwk, 'sha256'));
      expect(key.publicJwk).toMatchObject({ kid: key.kid, alg: key.alg, use: 'sig' });
      expect(keys.find(key.kid)).toBe(key);
    }
  });

  it('loads the same keys again from the same store, ready to verify each other', async () => {
    const { keys, store, clock } = await started();
    const again = keyStore(store, clock);
    await again.init();
    expect(await records(store)).toHaveLength(5);
    for (const purpose of ['credential', 'oidc'] as const) {
      expect(again.published(purpose).map((k) => k.kid)).toEqual(keys.published(purpose).map((k) => k.kid));
    }
    const first = keys.active('credential', 'EdDSA');
    const second = again.active('credential', 'EdDSA');
    const signature = sign(null, Buffer.from('hello'), second.privateKey);
    expect(verify(null, Buffer.from('hello'), first.publicKey, signature)).toBe(true);
  });

  it('stores private keys only encrypted, with a fresh IV and salt per record', async () => {
    const { keys, store } = await started();
    const stored = await records(store);
    for (const record of stored) {
      expect(record.privateKey).toMatchObject({ v: 1, kdf: 'HKDF-SHA256', enc: 'A256GCM' });
      expect(Buffer.from(record.privateKey!.iv, 'base64url')).toHaveLength(12);
      expect(jsonKeys(record.publicJwk).filter((k) => PRIVATE_MEMBERS.includes(k))).toEqual([]);
      const der = keys
        .find(record.kid)!
        .privateKey.export({ format: 'der', type: 'pkcs8' })
        .toString('base64url');
      expect(JSON.stringify(record)).not.toContain(der.slice(-40));
    }
    expect(new Set(stored.map((r) => r.privateKey!.iv)).size).toBe(stored.length);
    expect(new Set(stored.map((r) => r.privateKey!.salt)).size).toBe(stored.length);
  });

  it('refuses a wrong secret with KeyDecryptionFailed and the operator message', async () => {
    const { store, clock } = await started();
    const wrong = keyStore(store, clock, 'another-secret-of-sufficient-length-0123456');
    const failure = await wrong.init().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(KeyDecryptionFailed);
    expect((failure as Error).message).toBe(
      'the key-encryption secret does not decrypt the stored keys (was KEY_ENCRYPTION_SECRET changed?)',
    );
    expect(await records(store)).toHaveLength(5);
  });

  it('refuses a record whose ciphertext was altered by one byte instead of returning garbage', async () => {
    const { store, clock } = await started();
    const collection = store.collection<KeyRecord>(KEYS_COLLECTION);
    const [record] = await collection.find({ alg: 'EdDSA' });
    const bytes = Buffer.from(record!.privateKey!.ciphertext, 'base64url');
    bytes[5]! ^= 0x01;
    await collection.put({
      ...record!,
      privateKey: { ...record!.privateKey!, ciphertext: bytes.toString('base64url') },
    });
    await expect(keyStore(store, clock).init()).rejects.toThrow(KeyDecryptionFailed);
  });

  it('refuses a ciphertext moved to another purpose (AAD binds kid and purpose)', async () => {
    const { store, clock } = await started();
    const collection = store.collection<KeyRecord>(KEYS_COLLECTION);
    const [record] = await collection.find({ purpose: 'oidc', alg: 'ES256' });
    await collection.put({ ...record!, purpose: 'credential', slot: 'moved' });
    await expect(keyStore(store, clock).init()).rejects.toThrow(KeyDecryptionFailed);
  });

  it('leaves exactly one active key per purpose and algorithm when two instances start at once', async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const store = await openTestStore(clock);
    const [a, b] = [keyStore(store, clock), keyStore(store, clock)];
    await Promise.all([a.init(), b.init()]);
    const active = (await records(store)).filter((r) => r.status === 'active');
    expect(active.map((r) => `${r.purpose}:${r.alg}`).sort()).toEqual([
      'credential:ES256',
      'credential:EdDSA',
      'encryption:ECDH-ES',
      'oidc:ES256',
      'oidc:RS256',
    ]);
    expect(a.active('credential', 'EdDSA').kid).toBe(b.active('credential', 'EdDSA').kid);
    expect(a.active('oidc', 'RS256').kid).toBe(b.active('oidc', 'RS256').kid);
  });

  it('rotation keeps the old credential key in did.json and the JWKS until publishUntil, then drops it', async () => {
    const { keys, clock } = await started();
    const old = keys.active('credential', 'EdDSA');
    const rotated = await keys.rotate('credential');
    expect(rotated.map((k) => k.alg)).toEqual(['EdDSA', 'ES256']);
    const fresh = keys.active('credential', 'EdDSA');
    expect(fresh.kid).not.toBe(old.kid);

    const retired = keys.find(old.kid)!;
    expect(retired).toMatchObject({ status: 'retired', publishUntil: clock.now() + PUBLISH_SECONDS * 1000 });
    const published = keys.published('credential');
    expect(
      published
        .slice(0, 2)
        .map((k) => k.kid)
        .sort(),
    ).toEqual(rotated.map((k) => k.kid).sort());
    expect(published.slice(2).map((k) => k.status)).toEqual(['retired', 'retired']);
    expect(published.slice(2).map((k) => k.kid)).toContain(old.kid);
    const inDocuments = () => [
      JSON.stringify(didDocument(keys.published('credential'), PUBLIC_URL)).includes(old.kid),
      credentialJwks(keys).keys.some((k) => k.kid === old.kid),
    ];
    expect(inDocuments()).toEqual([true, true]);

    clock.advanceSeconds(PUBLISH_SECONDS - 1);
    expect(inDocuments()).toEqual([true, true]);
    clock.advanceSeconds(1);
    expect(inDocuments()).toEqual([false, false]);
    expect(keys.find(old.kid)).toBeUndefined();
    expect(keys.published('credential')).toHaveLength(2);
    expect(keys.active('credential', 'EdDSA').kid).toBe(fresh.kid);
  });

  it('rotates one algorithm alone and other instances see it after reload', async () => {
    const { keys, store, clock } = await started();
    const other = keyStore(store, clock);
    await other.init();
    const es256 = keys.active('credential', 'ES256').kid;
    const [eddsa] = await keys.rotate('credential', 'EdDSA');
    expect(keys.active('credential', 'ES256').kid).toBe(es256);
    expect(other.active('credential', 'EdDSA').kid).not.toBe(eddsa!.kid);
    await other.reload();
    expect(other.active('credential', 'EdDSA').kid).toBe(eddsa!.kid);
    await expect(keys.rotate('credential', 'RS256')).rejects.toThrow(/not an algorithm of that purpose/);
  });

  it('leaves one active key per algorithm when two instances rotate at once', async () => {
    const { keys, store, clock } = await started();
    const other = keyStore(store, clock);
    await other.init();
    await Promise.all([keys.rotate('credential'), other.rotate('credential')]);
    const active = (await records(store)).filter((r) => r.status === 'active' && r.purpose === 'credential');
    expect(active.map((r) => r.alg).sort()).toEqual(['ES256', 'EdDSA']);
    await Promise.all([keys.reload(), other.reload()]);
    expect(keys.active('credential', 'EdDSA').kid).toBe(other.active('credential', 'EdDSA').kid);
  });

  it('keeps signing with the newest published key while another instance is between retiring and inserting', async () => {
    const { keys, store, clock } = await started();
    const before = keys.active('credential', 'ES256');
    // Another instance's rotation, caught after its first write: the old key retired, no new one yet.
    const collection = store.collection({ name: 'keys' });
    await collection.update(
      before.kid,
      {},
      {
        status: 'retired',
        slot: `retired:${before.kid}`,
        publishUntil: clock.now() + 60_000,
      },
    );
    await keys.reload();
    expect(keys.active('credential', 'ES256').kid).toBe(before.kid);
    expect(keys.published('credential').map((k) => k.kid)).toContain(before.kid);
  });

  it('serialises keys without any private member, in JSON and in inspect output', async () => {
    const { keys } = await started();
    await keys.rotate('oidc');
    const all = [...keys.published('credential'), ...keys.published('oidc')];
    for (const value of [all, all[0], keys.active('oidc', 'RS256')]) {
      const json = JSON.parse(JSON.stringify(value));
      expect(jsonKeys(json).filter((k) => PRIVATE_MEMBERS.includes(k))).toEqual([]);
      expect(jsonKeys(json)).not.toContain('privateKey');
    }
    const rsa = keys.active('oidc', 'RS256');
    const d = rsa.privateKey.export({ format: 'jwk' }).d!;
    expect(inspect(rsa, { depth: 5 })).not.toContain(d.slice(0, 20));
    expect(JSON.stringify(all)).not.toContain(d.slice(0, 20));
    // The private key is still there for signers.
    expect(rsa.privateKey.type).toBe('private');
    expect(createPublicKey(rsa.privateKey).equals(rsa.publicKey)).toBe(true);
  });
});

describe('key CLI commands', () => {
  it('lists kid, purpose, alg, status and times of published keys, and nothing private', async () => {
    const { keys, clock } = await started();
    const old = keys.active('credential', 'EdDSA');
    const summary = await rotateKeys(keys, 'credential');
    expect(summary).toContain(
      `${old.kid} retired, published until ${new Date(clock.now() + 3600_000).toISOString()}`,
    );
    const table = listKeys(keys);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^kid\s+purpose\s+alg\s+status\s+created\s+publish until$/);
    expect(lines).toHaveLength(2 + 7);
    expect(table).toContain(old.kid);
    expect(table).toMatch(new RegExp(`${old.kid}\\s+credential\\s+EdDSA\\s+retired`));
    const d = keys.active('credential', 'EdDSA').privateKey.export({ format: 'jwk' }).d!;
    expect(table).not.toContain(d);
  });

  it('rejects an unknown purpose naming the accepted ones', async () => {
    const { keys } = await started();
    await expect(rotateKeys(keys, 'tls')).rejects.toThrow(
      'unknown key purpose "tls": use credential or oidc or encryption',
    );
  });
});
