import type { Clock } from '../clock.ts';
import { deriveKey, open, type Sealed, seal } from '../kyc/crypto.ts';
import type { IdentitySystemRegistry, VerificationRecord } from '../kyc/spi.ts';
import { recordsCovering } from '../kyc/verification.ts';
import type { Store, StoredDoc } from '../store/spi.ts';

/**
 * What we keep beside each oidc-provider Grant: who the person is in which identity system, what
 * they consented to, and the KYC token to fetch their claims with. The KYC token is sealed
 * (AES-256-GCM); claims are fetched with `exchangeKyc` at token/userinfo time, restricted to the
 * consent, and cached only sealed (the token may be single use), never in plaintext.
 */
export interface GrantRecord extends StoredDoc {
  /** The oidc-provider grantId. */
  _id: string;
  clientId?: string;
  /** The login transaction (interaction uid) the grant was decided in, for the audit trail. */
  transactionId?: string;
  /** The identity system's account id (never the raw individual ID). */
  accountId: string;
  /** Relying-party-specific subject (`sub`, and the provider's accountId). */
  subject: string;
  identitySystem: string;
  /** Claims the person consented to release. */
  consentedClaims: string[];
  claimsLocales: string[];
  acr?: string;
  amr?: string[];
  /** Credential configurations (OpenID4VCI) the grant covers. */
  credentialConfigurationIds: string[];
  authorizationDetails: Record<string, unknown>[];
  kycToken?: Sealed;
  claims?: Sealed;
}

/** A grant's released KYC: the consented claims and the verification records covering them. */
export interface ReleasedKyc {
  readonly claims: Record<string, unknown>;
  readonly verifications: readonly VerificationRecord[];
}

/** Key of the sealed cache's wrapper (a cached claims object never has a claim by this name). */
const CACHE_MARK = '$released';

export const GRANTS_COLLECTION = { name: 'oidc_grant_kyc', indexes: ['accountId', 'clientId', 'subject'] };

export class GrantRecords {
  readonly #collection;
  readonly #key: Buffer;
  readonly #clock: Clock;
  readonly #inflight = new Map<string, Promise<ReleasedKyc>>();

  constructor(store: Store, clock: Clock, encryptionSecret: string) {
    this.#collection = store.collection<GrantRecord>(GRANTS_COLLECTION);
    this.#key = deriveKey(encryptionSecret, 'oidc-grant-kyc');
    this.#clock = clock;
  }

  async save(
    record: Pick<
      GrantRecord,
      | '_id'
      | 'clientId'
      | 'transactionId'
      | 'accountId'
      | 'subject'
      | 'identitySystem'
      | 'consentedClaims'
      | 'claimsLocales'
      | 'acr'
      | 'amr'
      | 'credentialConfigurationIds'
      | 'authorizationDetails'
    > & { kycToken?: string },
    ttlSeconds: number,
  ): Promise<void> {
    const { kycToken, ...rest } = record;
    const doc: GrantRecord = { ...rest, expiresAt: this.#clock.now() + ttlSeconds * 1000 };
    if (kycToken) doc.kycToken = seal(this.#key, kycToken, `kyc:${record._id}`);
    await this.#collection.put(doc);
  }

  get(grantId: string): Promise<GrantRecord | undefined> {
    return this.#collection.get(grantId);
  }

  /** Grants of one person at one client (what revoking their consent must revoke). */
  forConsent(clientId: string, subject: string): Promise<GrantRecord[]> {
    return this.#collection.find({ clientId, subject }, { limit: 10_000 });
  }

  delete(grantId: string): Promise<boolean> {
    return this.#collection.delete(grantId);
  }

  /**
   * The consented claims for a grant, with the verification records that cover them (OpenID
   * Connect for Identity Assurance): exchanged once with the identity system (single flight per
   * grant), then served from the sealed cache.
   */
  async claims(record: GrantRecord, systems: IdentitySystemRegistry): Promise<ReleasedKyc> {
    if (record.claims) {
      const cached = open<Record<string, unknown>>(this.#key, record.claims, `claims:${record._id}`);
      // Cached as { claims, verifications }; grants cached before verification records: claims only.
      return Object.hasOwn(cached, CACHE_MARK)
        ? (cached[CACHE_MARK] as ReleasedKyc)
        : { claims: cached, verifications: [] };
    }
    if (record.consentedClaims.length === 0) return { claims: {}, verifications: [] };
    let pending = this.#inflight.get(record._id);
    if (!pending) {
      pending = this.#exchange(record, systems).finally(() => this.#inflight.delete(record._id));
      this.#inflight.set(record._id, pending);
    }
    return pending;
  }

  async #exchange(record: GrantRecord, systems: IdentitySystemRegistry): Promise<ReleasedKyc> {
    if (!record.kycToken) throw new Error(`grant ${record._id} has no KYC token`);
    const kycToken = open<string>(this.#key, record.kycToken, `kyc:${record._id}`);
    const system = systems.get(record.identitySystem);
    const result = await system.exchangeKyc(kycToken, record.consentedClaims, record.claimsLocales);
    // Only consented claims (with their language-tagged variants) are ever kept or released.
    const claims: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(result.claims ?? {})) {
      if (record.consentedClaims.includes(name.split('#')[0]!)) claims[name] = value;
    }
    const released: ReleasedKyc = {
      claims,
      verifications: recordsCovering(result.verifications ?? [], record.consentedClaims),
    };
    await this.#collection.update(
      record._id,
      {},
      { claims: seal(this.#key, { [CACHE_MARK]: released }, `claims:${record._id}`) },
    );
    return released;
  }
}
