import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { deriveKey, open, type Sealed, safeEqual, seal } from '../../kyc/crypto.ts';
import type { Factor, VerificationRecord } from '../../kyc/spi.ts';
import type { Store, StoredDoc } from '../../store/spi.ts';

/**
 * Login transactions: our state beside an oidc-provider interaction (same id). Policy
 * (SECURITY.md): the person has `loginTransactionSeconds` from the start to authenticate, then
 * `consentTransactionSeconds` to consent. Secrets (the individual ID typed for an OTP, the KYC
 * token) are sealed with AES-256-GCM; nothing personal is stored in clear.
 */
export interface LoginTransaction extends StoredDoc {
  _id: string;
  clientId: string;
  createdAt: number;
  /** The individual ID typed when an OTP was requested (sealed). */
  individual?: Sealed;
  otp?: { maskedTo: string; resendAt: number };
  auth?: {
    subject: string;
    accountId: string;
    identitySystem: string;
    factors: Factor[];
    acr?: string;
    /**
     * How the person's claims are verified (trust framework, assurance level, evidence types, the
     * claims covered; no claim values), for the consent page. Absent when the system has none.
     */
    verifications?: VerificationRecord[];
    kycToken: Sealed;
    at: number;
  };
  /** 0 until consent is submitted (compare-and-set makes consent single use). */
  consentedAt: number;
}

export class LoginTransactions {
  readonly #collection;
  readonly #clock: Clock;
  readonly #key: Buffer;
  readonly #csrfKey: KeyObject;
  readonly loginSeconds: number;
  readonly consentSeconds: number;

  constructor(store: Store, clock: Clock, secret: string, loginSeconds: number, consentSeconds: number) {
    this.#collection = store.collection<LoginTransaction>({ name: 'oidc_login_transactions' });
    this.#clock = clock;
    this.#key = deriveKey(secret, 'oidc-login-transaction');
    this.#csrfKey = createSecretKey(deriveKey(secret, 'oidc-csrf'));
    this.loginSeconds = loginSeconds;
    this.consentSeconds = consentSeconds;
  }

  /** The live transaction, created on first sight of the interaction. */
  async open(uid: string, clientId: string): Promise<LoginTransaction> {
    const existing = await this.#collection.get(uid);
    if (existing) return existing;
    const now = this.#clock.now();
    const doc: LoginTransaction = {
      _id: uid,
      clientId,
      createdAt: now,
      consentedAt: 0,
      expiresAt: now + (this.loginSeconds + this.consentSeconds) * 1000,
    };
    try {
      await this.#collection.insert(doc);
      return doc;
    } catch {
      return (await this.#collection.get(uid)) ?? doc;
    }
  }

  /** Whether the authentication window (or, once authenticated, the consent window) has passed. */
  expired(tx: LoginTransaction): boolean {
    const now = this.#clock.now();
    if (tx.auth) return now > tx.auth.at + this.consentSeconds * 1000;
    return now > tx.createdAt + this.loginSeconds * 1000;
  }

  async rememberIndividual(
    uid: string,
    individualId: string,
    otp: { maskedTo: string; resendAt: number },
  ): Promise<void> {
    await this.#collection.update(
      uid,
      {},
      { individual: seal(this.#key, individualId, `individual:${uid}`), otp },
    );
  }

  individual(tx: LoginTransaction): string | undefined {
    return tx.individual ? open<string>(this.#key, tx.individual, `individual:${tx._id}`) : undefined;
  }

  async authenticated(
    uid: string,
    auth: Omit<NonNullable<LoginTransaction['auth']>, 'kycToken' | 'at'> & { kycToken: string },
  ): Promise<LoginTransaction | undefined> {
    const now = this.#clock.now();
    return this.#collection.update(
      uid,
      { consentedAt: 0 },
      {
        auth: { ...auth, kycToken: seal(this.#key, auth.kycToken, `kyc:${uid}`), at: now },
        // The consent window starts now; the record lives until it closes.
        expiresAt: now + this.consentSeconds * 1000,
      },
    );
  }

  kycToken(tx: LoginTransaction): string {
    if (!tx.auth) throw new Error('transaction is not authenticated');
    return open<string>(this.#key, tx.auth.kycToken, `kyc:${tx._id}`);
  }

  /** Single use: the first consent submission wins, concurrent or later ones get undefined. */
  claimConsent(uid: string): Promise<LoginTransaction | undefined> {
    return this.#collection.update(uid, { consentedAt: 0 }, { consentedAt: this.#clock.now() });
  }

  /** CSRF token bound to the interaction (which oidc-provider binds to the browser's cookie). */
  csrf(uid: string): string {
    return createHmac('sha256', this.#csrfKey).update(uid).digest('base64url');
  }

  checkCsrf(uid: string, presented: unknown): boolean {
    return typeof presented === 'string' && presented.length > 0 && safeEqual(presented, this.csrf(uid));
  }
}
