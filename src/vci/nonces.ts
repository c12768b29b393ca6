import { createHash } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { randomId } from '../random.ts';
import type { Store } from '../store/spi.ts';

/**
 * c_nonce values (OpenID4VCI 1.0 §7): 256 random bits, stored by hash with an expiry, consumed once
 * with one conditional write, so a replayed proof loses even in a parallel burst (SECURITY.md row 23).
 */
export interface Nonces {
  issue(): Promise<{ nonce: string; expiresInSeconds: number }>;
  /** True for exactly one caller per live nonce. */
  consume(nonce: string): Promise<boolean>;
}

const digest = (value: string) => createHash('sha256').update(value).digest('base64url');

export function createNonces(store: Store, clock: Clock, ttlSeconds: number): Nonces {
  const nonces = store.collection({ name: 'vci_nonces' });
  return {
    async issue() {
      const nonce = randomId(32);
      await nonces.insert({ _id: digest(nonce), expiresAt: clock.now() + ttlSeconds * 1000 });
      return { nonce, expiresInSeconds: ttlSeconds };
    },
    async consume(nonce) {
      if (nonce.length > 200) return false;
      return (await nonces.consume(digest(nonce))) !== undefined;
    },
  };
}
