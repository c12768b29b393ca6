import type { Clock } from '../clock.ts';
import { InvalidTransaction } from '../errors.ts';
import { randomId } from '../random.ts';
import type { Store, StoredDoc } from '../store/spi.ts';
import { sha256 } from './crypto.ts';
import type { Factor } from './spi.ts';

export interface KycTokenBinding {
  accountId: string;
  clientId: string;
  system: string;
  factors: Factor[];
  /** The external registry's own token (http system), sent back to it at exchange time. */
  registryToken?: string;
}

export interface KycTokenDoc extends StoredDoc, KycTokenBinding {
  expiresAt: number;
}

/**
 * KYC tokens: 256-bit random handles from authentication to claims exchange, stored only as their
 * SHA-256 hash, bound to the account and the relying party, valid `kyc.kycTokenTtlSeconds`. They
 * can be exchanged more than once within that time (ID token claims and userinfo may both need
 * them); after it, claims come from `claimsForAccount` under the grant.
 */
export class KycTokens {
  private readonly tokens;
  private readonly clock: Clock;
  private readonly ttlSeconds: number;

  constructor(deps: { store: Store; clock: Clock; ttlSeconds: number }) {
    this.tokens = deps.store.collection<KycTokenDoc>({ name: 'kyc_tokens' });
    this.clock = deps.clock;
    this.ttlSeconds = deps.ttlSeconds;
  }

  async issue(binding: KycTokenBinding): Promise<string> {
    const token = randomId(32);
    await this.tokens.insert({
      ...binding,
      _id: sha256(token),
      expiresAt: this.clock.now() + this.ttlSeconds * 1000,
    });
    return token;
  }

  /** The token's binding; InvalidTransaction when unknown, expired, or issued to another client. */
  async resolve(token: string, clientId?: string): Promise<KycTokenDoc> {
    const doc =
      typeof token === 'string' && token.length <= 200 ? await this.tokens.get(sha256(token)) : undefined;
    if (!doc || doc.expiresAt <= this.clock.now() || (clientId !== undefined && doc.clientId !== clientId)) {
      throw new InvalidTransaction('the KYC token is unknown, expired or issued to another client');
    }
    return doc;
  }
}
