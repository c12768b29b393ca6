import { createHmac, createSecretKey, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { sha256Base64url as digest } from '../crypto/hash.ts';
import { InvalidNonce } from '../errors.ts';
import { poolRandomBytes } from '../random.ts';
import { insertNew } from '../store/insert-new.ts';
import type { Store } from '../store/spi.ts';

/**
 * c_nonce values (OpenID4VCI 1.0 §7) that cost the nonce endpoint no write, so an unauthenticated
 * caller cannot make the issuer store a record per call (the rate limiter keeps one counter per
 * client address and window):
 *
 *   base64url( version 2 ‖ expiry, epoch seconds, uint32 ‖ 16 random bytes ‖ first 16 bytes of
 *              HMAC-SHA-256(key, the 21 bytes before) )
 *
 * The key is derived (HKDF-SHA-256) from `keys.encryptionSecret`, so every instance sharing that
 * secret accepts the others' nonces. `consume` checks the MAC in constant time and the expiry with
 * the injected clock, then makes the one conditional write that decides single use: an insert of
 * the nonce's hash (kept until the nonce expires) that a second use violates, so a replayed proof
 * loses even in a parallel burst (SECURITY.md row 23).
 *
 * Version 2 keys that record by the expiry (base36, fixed width) before the hash, so records made
 * together sit together in the store's index instead of one at a random place each (the embedded
 * store then rewrites one index page per commit, not one per nonce). Version 1 nonces, keyed by the
 * hash alone, are still accepted until the last of them expires: a nonce used before an upgrade
 * keeps its record's key, and stays used.
 */
export interface Nonces {
  issue(): Promise<{ nonce: string; expiresInSeconds: number }>;
  /** True for exactly one caller per live nonce this issuer made. */
  consume(nonce: string): Promise<boolean>;
  /**
   * Makes a nonce this caller consumed usable again: only for a request that failed before it
   * handed anything out (issue 10: a failed issuance spends no nonce). At most one credential
   * response per nonce still leaves the issuer, because only the consumer of a nonce releases it.
   */
  release(nonce: string): Promise<void>;
  /**
   * Consumes a nonce this issuer did not make (an authorization server's `c_nonce` access-token
   * claim) until `expiresAt` (epoch ms): the same single-use record, one conditional write.
   */
  consumeForeign(nonce: string, expiresAt: number): Promise<boolean>;
}

const VERSION = 2;
/** Accepted until the version 1 nonces issued before an upgrade have expired (`ttlSeconds`). */
const LEGACY_VERSION = 1;
const BODY_BYTES = 1 + 4 + 16;
const MAC_BYTES = 16;
/** base64url length of the 37 bytes. */
const ENCODED_LENGTH = Math.ceil(((BODY_BYTES + MAC_BYTES) * 4) / 3);
const KEY_INFO = 'idissuer/vci/c_nonce/v1';

/** Epoch seconds in base36, 7 digits (any uint32), so the ids sort as the expiries do. */
const expiryKey = (expirySeconds: number) => expirySeconds.toString(36).padStart(7, '0');

/** The consume record's id of a nonce this issuer made (canonical, MAC checked): see above. */
const usedId = (nonce: string, raw: Buffer) =>
  raw[0] === LEGACY_VERSION ? digest(nonce) : `${expiryKey(raw.readUInt32BE(1))}.${digest(nonce)}`;

export function createNonces(store: Store, clock: Clock, ttlSeconds: number, secret: string): Nonces {
  if (!secret) throw new Error('keys.encryptionSecret is required to protect c_nonce values');
  const used = store.collection({ name: 'vci_nonces' });
  // A KeyObject: createHmac re-imports a Buffer key on every call (~12 µs against ~2.5 µs here).
  const key = createSecretKey(Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), KEY_INFO, 32)));
  const mac = (body: Uint8Array) => createHmac('sha256', key).update(body).digest().subarray(0, MAC_BYTES);

  return {
    async issue() {
      const body = Buffer.alloc(BODY_BYTES);
      body[0] = VERSION;
      body.writeUInt32BE(Math.ceil(clock.now() / 1000) + ttlSeconds, 1);
      poolRandomBytes(16).copy(body, 5);
      return { nonce: Buffer.concat([body, mac(body)]).toString('base64url'), expiresInSeconds: ttlSeconds };
    },
    async consume(nonce) {
      if (nonce.length !== ENCODED_LENGTH) return false;
      const raw = Buffer.from(nonce, 'base64url');
      // Only the canonical encoding: one nonce, one spelling, one consume record.
      if (raw.length !== BODY_BYTES + MAC_BYTES || raw.toString('base64url') !== nonce) return false;
      const body = raw.subarray(0, BODY_BYTES);
      if (body[0] !== VERSION && body[0] !== LEGACY_VERSION) return false;
      if (!timingSafeEqual(mac(body), raw.subarray(BODY_BYTES))) return false;
      const expiresAt = body.readUInt32BE(1) * 1000;
      if (expiresAt <= clock.now()) return false;
      return insertNew(used, { _id: usedId(nonce, raw), expiresAt });
    },
    async release(nonce) {
      // Only a nonce this caller consumed comes back here: one of ours, already checked.
      await used.delete(
        nonce.startsWith('foreign:') ? digest(nonce) : usedId(nonce, Buffer.from(nonce, 'base64url')),
      );
    },
    async consumeForeign(nonce, expiresAt) {
      if (nonce.length === 0 || nonce.length > 512 || expiresAt <= clock.now()) return false;
      return insertNew(used, { _id: digest(`foreign:${nonce}`), expiresAt });
    },
  };
}

/**
 * The nonces of one grant: a proof nonce equal to the access token's own c_nonce (an external
 * authorization server's claim) is consumed as a foreign nonce, every other as one of ours.
 */
export function grantNonces(nonces: Nonces, tokenCNonce?: { value: string; expiresAt: number }): Nonces {
  if (!tokenCNonce) return nonces;
  const digestOf = (n: string) => (n === tokenCNonce.value ? `foreign:${n}` : n);
  return {
    ...nonces,
    consume: (n) =>
      n === tokenCNonce.value ? nonces.consumeForeign(n, tokenCNonce.expiresAt) : nonces.consume(n),
    release: (n) => nonces.release(digestOf(n)),
  };
}

/**
 * Consumes each nonce once (the atomic step: row 23). When one of several is refused, the ones
 * this call consumed are given back, so a refused request spends none.
 */
export async function spendNonces(nonces: Nonces, values: readonly string[]): Promise<void> {
  const spent: string[] = [];
  for (const nonce of values) {
    if (!(await nonces.consume(nonce))) {
      await releaseNonces(nonces, spent);
      throw new InvalidNonce('the c_nonce is unknown, expired or already used');
    }
    spent.push(nonce);
  }
}

export async function releaseNonces(nonces: Nonces, values: readonly string[]): Promise<void> {
  for (const nonce of values) await nonces.release(nonce);
}

/** Runs `work` after spending `values`; gives them back when `work` throws. */
export async function withSpentNonces<T>(
  nonces: Nonces,
  values: readonly string[],
  work: () => Promise<T>,
): Promise<T> {
  await spendNonces(nonces, values);
  try {
    return await work();
  } catch (error) {
    await releaseNonces(nonces, values);
    throw error;
  }
}
