import { createHash } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Store, StoredDoc } from '../store/spi.ts';

/**
 * Remembered consent, one per (client, person): eSignet's consent table. A later login for the
 * same client skips the consent page only when the remembered request fingerprint equals the new
 * one (a changed claim set asks again), the record has not expired and `prompt` does not contain
 * `consent`.
 */
export interface ConsentRecord extends StoredDoc {
  clientId: string;
  /** The provider's account id for the person at this client (pairwise `sub`). */
  subject: string;
  /** The identity system's account id (for listing a person's consents). */
  accountId: string;
  identitySystem: string;
  fingerprint: string;
  scopes: string[];
  acceptedClaims: string[];
  declinedClaims: string[];
  authorizationDetails: Record<string, unknown>[];
  givenAt: number;
  expiresAt: number;
}

export const CONSENTS_COLLECTION = {
  name: 'consents',
  indexes: ['accountId', 'clientId', 'subject'],
  unique: [['clientId', 'subject']],
};

export const consentId = (clientId: string, subject: string): string =>
  createHash('sha256').update(`${clientId}\n${subject}`).digest('base64url');

export class Consents {
  readonly #collection;
  readonly #clock: Clock;

  constructor(store: Store, clock: Clock) {
    this.#collection = store.collection<ConsentRecord>(CONSENTS_COLLECTION);
    this.#clock = clock;
  }

  /** The live consent for this client and subject when it matches the request fingerprint. */
  async matching(clientId: string, subject: string, fingerprint: string): Promise<ConsentRecord | undefined> {
    const record = await this.#collection.get(consentId(clientId, subject));
    if (!record || record.expiresAt <= this.#clock.now() || record.fingerprint !== fingerprint)
      return undefined;
    return record;
  }

  /** Records (or replaces) the consent for this client and subject. */
  async remember(
    record: Pick<
      ConsentRecord,
      | 'clientId'
      | 'subject'
      | 'accountId'
      | 'identitySystem'
      | 'fingerprint'
      | 'scopes'
      | 'acceptedClaims'
      | 'declinedClaims'
      | 'authorizationDetails'
    >,
    ttlSeconds: number,
  ): Promise<ConsentRecord> {
    const now = this.#clock.now();
    const doc: ConsentRecord = {
      ...record,
      _id: consentId(record.clientId, record.subject),
      givenAt: now,
      expiresAt: now + ttlSeconds * 1000,
    };
    await this.#collection.put(doc);
    return doc;
  }

  get(id: string): Promise<ConsentRecord | undefined> {
    return this.#collection.get(id);
  }

  forAccount(accountId: string): Promise<ConsentRecord[]> {
    return this.#collection.find({ accountId }, { limit: 1000 });
  }

  forSubject(subject: string): Promise<ConsentRecord[]> {
    return this.#collection.find({ subject }, { limit: 1000 });
  }

  delete(id: string): Promise<boolean> {
    return this.#collection.delete(id);
  }
}
