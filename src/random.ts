import { randomBytes } from 'node:crypto';

/**
 * Random identifiers (nonces, codes, record ids) from a pool of CSPRNG bytes. Each node:crypto
 * randomBytes call costs ~5 µs here whatever its size, and a credential request needs several;
 * drawing 4 KiB at a time makes an identifier cost ~0.1 µs. Every byte is handed out once, and a
 * refill allocates a new pool, so the views returned earlier never change.
 */
const POOL_BYTES = 4096;
let pool = randomBytes(POOL_BYTES);
let offset = 0;

/** `length` fresh random bytes (a view into the pool: never written to again). */
export function poolRandomBytes(length: number): Buffer {
  if (length > POOL_BYTES) return randomBytes(length);
  if (offset + length > POOL_BYTES) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + length);
  offset += length;
  return bytes;
}

/** A base64url identifier carrying `bytes` random bytes (16 = 128 bits, 32 = 256 bits). */
export function randomId(bytes: number): string {
  return poolRandomBytes(bytes).toString('base64url');
}

/**
 * `randomId(bytes)` after the instant (epoch ms, base36, 9 digits: until the year 5188), so ids made
 * together sort together: a store's unique index then takes them on one page instead of one
 * page each at random places (the embedded store rewrites every touched page at each commit).
 */
export function timeOrderedId(epochMs: number, bytes: number): string {
  return `${epochMs.toString(36).padStart(9, '0')}-${randomId(bytes)}`;
}
