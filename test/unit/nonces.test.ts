import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { createNonces, type Nonces } from '../../src/vci/nonces.ts';

const SECRET = 'unit-test-encryption-secret-0123456789';
const TTL = 300;

/** A nonce as the issuer wrote them before version 2 (kept for nonces in flight across an upgrade). */
function versionOneNonce(expirySeconds: number): string {
  const key = Buffer.from(hkdfSync('sha256', SECRET, Buffer.alloc(0), 'idissuer/vci/c_nonce/v1', 32));
  const body = Buffer.alloc(21);
  body[0] = 1;
  body.writeUInt32BE(expirySeconds, 1);
  Buffer.from('0123456789abcdef').copy(body, 5);
  const mac = createHmac('sha256', key).update(body).digest().subarray(0, 16);
  return Buffer.concat([body, mac]).toString('base64url');
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

describe('c_nonce values (src/vci/nonces.ts)', () => {
  let clock: ManualClock;
  let store: Store;
  let nonces: Nonces;
  const usedIds = async () => (await store.collection({ name: 'vci_nonces' }).find({})).map((d) => d._id);

  beforeEach(async () => {
    clock = new ManualClock();
    store = await openStore({ kind: 'embedded', file: ':memory:' }, clock, 0);
    nonces = createNonces(store, clock, TTL, SECRET);
  });
  afterEach(async () => {
    await store.close();
  });

  it('is consumed exactly once in a parallel burst, and again only after a release', async () => {
    const { nonce } = await nonces.issue();
    const results = await Promise.all(Array.from({ length: 20 }, () => nonces.consume(nonce)));
    expect(results.filter(Boolean)).toHaveLength(1);
    await nonces.release(nonce);
    expect(await nonces.consume(nonce)).toBe(true);
    expect(await nonces.consume(nonce)).toBe(false);
  });

  it('keys the consume records by expiry first, so they sort in the order they expire', async () => {
    const issued: string[] = [];
    for (let i = 0; i < 5; i++) {
      issued.push((await nonces.issue()).nonce);
      clock.advanceSeconds(7);
    }
    // Consumed out of order: the records still sort by the nonces' expiry.
    for (const nonce of [...issued].reverse()) expect(await nonces.consume(nonce)).toBe(true);
    const ids = await usedIds();
    expect(ids).toHaveLength(5);
    expect([...ids].sort()).toEqual(issued.map((n) => ids.find((id) => id.endsWith(`.${sha256(n)}`))));
    for (const id of ids) expect(id).toMatch(/^[0-9a-z]{7}\.[A-Za-z0-9_-]{43}$/);
  });

  it('accepts a version 1 nonce made before an upgrade once, under its old record key', async () => {
    const old = versionOneNonce(Math.ceil(clock.now() / 1000) + 60);
    expect(await nonces.consume(old)).toBe(true);
    expect(await usedIds()).toEqual([sha256(old)]);
    expect(await nonces.consume(old)).toBe(false);
    await nonces.release(old);
    expect(await usedIds()).toEqual([]);
    expect(await nonces.consume(old)).toBe(true);
  });

  it('refuses an unknown version, a changed MAC and an expired nonce', async () => {
    const { nonce } = await nonces.issue();
    const raw = Buffer.from(nonce, 'base64url');
    const version3 = Buffer.from(raw);
    version3[0] = 3;
    expect(await nonces.consume(version3.toString('base64url'))).toBe(false);
    const tampered = Buffer.from(raw);
    tampered[tampered.length - 1]! ^= 1;
    expect(await nonces.consume(tampered.toString('base64url'))).toBe(false);
    clock.advanceSeconds(TTL + 1);
    expect(await nonces.consume(nonce)).toBe(false);
    expect(await usedIds()).toEqual([]);
  });

  it('keeps a foreign nonce (an authorization server c_nonce claim) under its own key, released alike', async () => {
    const expiresAt = clock.now() + 60_000;
    expect(await nonces.consumeForeign('as-nonce', expiresAt)).toBe(true);
    expect(await nonces.consumeForeign('as-nonce', expiresAt)).toBe(false);
    expect(await usedIds()).toEqual([sha256('foreign:as-nonce')]);
    await nonces.release('foreign:as-nonce');
    expect(await nonces.consumeForeign('as-nonce', expiresAt)).toBe(true);
  });
});
