import { describe, expect, it } from 'vitest';
import { poolRandomBytes, randomId, timeOrderedId } from '../../src/random.ts';

const POOL_BYTES = 4096;

describe('poolRandomBytes', () => {
  it('returns exactly the requested number of bytes, pooled or not', () => {
    for (const length of [0, 1, 16, 32, POOL_BYTES - 1, POOL_BYTES, POOL_BYTES + 1, 5000, 65_536]) {
      const bytes = poolRandomBytes(length);
      expect(Buffer.isBuffer(bytes)).toBe(true);
      expect(bytes.length).toBe(length);
      expect(bytes.byteLength).toBe(length);
    }
  });

  it('keeps the bytes of a view handed out before a refill (a refill allocates a new pool)', () => {
    for (const length of [16, 32, 1000, POOL_BYTES]) {
      const view = poolRandomBytes(length);
      const copy = Buffer.from(view);
      // Far more than one pool: forces at least two refills after `view` was taken.
      for (let i = 0; i < 3; i++) poolRandomBytes(POOL_BYTES);
      for (let i = 0; i < 100; i++) poolRandomBytes(97);
      expect(view.equals(copy)).toBe(true);
    }
  });

  it('never hands out the same memory twice (consecutive views do not overlap)', () => {
    const views: Buffer[] = [];
    for (let i = 0; i < 600; i++) views.push(poolRandomBytes(16 + (i % 7)));
    const copies = views.map((v) => Buffer.from(v));
    // Views that share a pool buffer must occupy disjoint byte ranges.
    const byPool = new Map<ArrayBufferLike, Buffer[]>();
    for (const v of views) byPool.set(v.buffer, [...(byPool.get(v.buffer) ?? []), v]);
    expect(byPool.size).toBeGreaterThan(1); // 600 views of 16-22 bytes span several pools
    for (const sameMemory of byPool.values()) {
      sameMemory.sort((a, b) => a.byteOffset - b.byteOffset);
      for (let i = 1; i < sameMemory.length; i++) {
        const prev = sameMemory[i - 1]!;
        expect(sameMemory[i]!.byteOffset).toBeGreaterThanOrEqual(prev.byteOffset + prev.length);
      }
    }
    // Writing into one view changes no other view.
    const first = poolRandomBytes(16);
    const second = poolRandomBytes(16);
    const secondCopy = Buffer.from(second);
    first.fill(0x00);
    first.fill(0xff);
    expect(second.equals(secondCopy)).toBe(true);
    for (const v of views) v.fill(0);
    expect(second.equals(secondCopy)).toBe(true);
    // And the earlier views were distinct random bytes to begin with.
    expect(new Set(copies.map((c) => c.toString('hex'))).size).toBe(copies.length);
  });

  it('looks random: two 32-byte draws differ, and bytes are not all zero', () => {
    const a = Buffer.from(poolRandomBytes(32));
    const b = Buffer.from(poolRandomBytes(32));
    expect(a.equals(b)).toBe(false);
    const big = poolRandomBytes(POOL_BYTES * 2);
    expect(big.some((x) => x !== 0)).toBe(true);
  });
});

describe('randomId', () => {
  it('gives 10,000 distinct 22-character base64url ids for 16 bytes', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const id = randomId(16);
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(10_000);
  });

  it('encodes exactly `bytes` random bytes', () => {
    for (const bytes of [0, 1, 16, 32, POOL_BYTES, 5000]) {
      const id = randomId(bytes);
      expect(id).toMatch(/^[A-Za-z0-9_-]*$/);
      expect(Buffer.from(id, 'base64url').length).toBe(bytes);
    }
  });
});

describe('timeOrderedId', () => {
  it('sorts as its instants do (to the year 5188), and differs at the same instant', () => {
    const instants = [0, 1, 35, 36, 1_765_000_000_000, 1_765_000_000_001, 36 ** 9 - 1];
    const ids = instants.map((at) => timeOrderedId(at, 16));
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) expect(id).toMatch(/^[0-9a-z]{9}-[A-Za-z0-9_-]{22}$/);
    expect(timeOrderedId(5, 16)).not.toBe(timeOrderedId(5, 16));
  });
});
