import { createHash } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { signCompact } from '../../credentials/formats/jws.ts';
import type { KeyStore, ManagedKey } from '../../keys/spi.ts';
import type { TransactionRef } from '../../kyc/spi.ts';
import { randomId } from '../../random.ts';
import type { Store, StoredDoc } from '../../store/spi.ts';

/**
 * OpenID4VP 1.0 authorization requests for the wallet login
 * (https://openid.net/specs/openid-4-verifiable-presentations-1_0.html): passed by reference
 * (§5.7, `request_uri`, fetched once), signed (RFC 9101 JAR, `typ: oauth-authz-req+jwt`) by our
 * ES256 credential key with its certificate in `x5c`, the Client Identifier being `x509_hash:` +
 * the certificate's SHA-256 (§5.9.3), `response_mode=direct_post` to our response endpoint (§8.2),
 * a DCQL query (§6) for our identity credential with holder binding, and a nonce. One record per
 * request, bound to one login transaction, expiring in minutes; it holds our nonce and, once a
 * wallet answered, only the SHA-256 of what it presented (to tell a replay).
 */

export interface WalletRequestDoc extends StoredDoc {
  /** The request id: also the `state` the wallet sends back and the `request_uri`'s last segment. */
  _id: string;
  /** The login transaction (interaction uid). */
  uid: string;
  /** Who logs in where, fixed when the page asked for the request (the wallet's post has no session). */
  login: WalletLoginTarget;
  nonce: string;
  createdAt: number;
  /** 0 until the wallet fetched the request object (compare-and-set: fetched once). */
  fetchedAt: number;
  /** 0 until a presentation was accepted or refused for it (compare-and-set: answered once). */
  answeredAt: number;
  /** SHA-256 of the presented vp_token; nothing else of the presentation is kept. */
  presentationHash?: string;
  /** How it ended: `verified`, or the reason the presentation was refused (page state). */
  outcome?: string;
}

export interface WalletLoginTarget {
  /** The identity system that finds the account behind the holder key. */
  readonly system: string;
  readonly transaction: TransactionRef;
  /** The ACR a wallet presentation satisfies for this login. */
  readonly acr: string;
  /**
   * The login's `issuer_state` (a credential offer, maybe made for one person): the account the
   * wallet proves must be that person (steps.ts checkOfferedPerson), as for every other factor.
   */
  readonly issuerState?: string;
}

export interface WalletRequestPolicy {
  /** Our origin and base path: the response endpoint and request_uri live under them. */
  readonly origin: string;
  readonly basePath: string;
  /** Lifetime of a request, in seconds (minutes, not more). */
  readonly ttlSeconds: number;
  /** `vct` values of the identity credential the DCQL query asks for, read at each request. */
  readonly vcts: () => readonly string[];
}

export interface SignedRequest {
  readonly id: string;
  readonly expiresAt: number;
  /** `openid4vp://?client_id=…&request_uri=…` for the QR code and the same-device button. */
  readonly walletUrl: string;
}

export const DCQL_CREDENTIAL_ID = 'identity';

export class WalletRequests {
  readonly #requests;
  readonly #clock: Clock;
  readonly #keys: Pick<KeyStore, 'active'>;
  readonly #x5c: (key: ManagedKey) => Promise<string[]>;
  readonly policy: WalletRequestPolicy;

  constructor(deps: {
    store: Store;
    clock: Clock;
    keys: Pick<KeyStore, 'active'>;
    x5c: (key: ManagedKey) => Promise<string[]>;
    policy: WalletRequestPolicy;
  }) {
    this.#requests = deps.store.collection<WalletRequestDoc>({ name: 'wallet_login_requests' });
    this.#clock = deps.clock;
    this.#keys = deps.keys;
    this.#x5c = deps.x5c;
    this.policy = deps.policy;
  }

  get responseUri(): string {
    return `${this.policy.origin}${this.policy.basePath}/interaction/wallet-login/response`;
  }

  requestUri(id: string): string {
    return `${this.policy.origin}${this.policy.basePath}/interaction/wallet-login/request/${id}`;
  }

  /** `x509_hash:<base64url SHA-256 of the DER certificate>` (OpenID4VP 1.0 §5.9.3). */
  async clientId(): Promise<string> {
    const [leaf] = await this.#x5c(this.#keys.active('credential', 'ES256'));
    if (!leaf) throw new Error('the credential key has no certificate');
    return `x509_hash:${createHash('sha256').update(Buffer.from(leaf, 'base64')).digest('base64url')}`;
  }

  /** A new request for login transaction `uid`. */
  async create(uid: string, login: WalletLoginTarget): Promise<SignedRequest> {
    const now = this.#clock.now();
    const id = randomId(24);
    const expiresAt = now + this.policy.ttlSeconds * 1000;
    await this.#requests.insert({
      _id: id,
      uid,
      login,
      nonce: randomId(24),
      createdAt: now,
      fetchedAt: 0,
      answeredAt: 0,
      expiresAt,
    });
    const query = new URLSearchParams({ client_id: await this.clientId(), request_uri: this.requestUri(id) });
    return { id, expiresAt, walletUrl: `openid4vp://?${query}` };
  }

  /** The live request (not expired), or undefined. */
  async get(id: unknown): Promise<WalletRequestDoc | undefined> {
    if (typeof id !== 'string' || id.length > 64) return undefined;
    const doc = await this.#requests.get(id);
    return doc && (doc.expiresAt ?? 0) > this.#clock.now() ? doc : undefined;
  }

  /** The signed request object, served once; undefined when unknown, expired or already fetched. */
  async fetchOnce(id: string): Promise<string | undefined> {
    const doc = await this.get(id);
    const vcts = this.policy.vcts();
    if (!doc || vcts.length === 0) return undefined;
    const now = this.#clock.now();
    const claimed = await this.#requests.update(id, { fetchedAt: 0 }, { fetchedAt: now });
    if (!claimed) return undefined;
    const key = this.#keys.active('credential', 'ES256');
    const clientId = await this.clientId();
    const claims = {
      client_id: clientId,
      response_type: 'vp_token',
      response_mode: 'direct_post',
      response_uri: this.responseUri,
      nonce: doc.nonce,
      state: doc._id,
      dcql_query: {
        credentials: [
          {
            id: DCQL_CREDENTIAL_ID,
            format: 'dc+sd-jwt',
            meta: { vct_values: [...vcts] },
            require_cryptographic_holder_binding: true,
            // No claims: the login needs none of the person's details, only the credential and key.
          },
        ],
      },
      client_metadata: {
        vp_formats_supported: {
          'dc+sd-jwt': { 'sd-jwt_alg_values': ['ES256', 'EdDSA'], 'kb-jwt_alg_values': ['ES256', 'EdDSA'] },
        },
      },
    };
    // Signed through the key (in-process or in a PKCS#11 token), not jose's SignJWT, which needs the private key.
    const header = { alg: 'ES256', typ: 'oauth-authz-req+jwt', x5c: await this.#x5c(key) };
    return signCompact(key, Buffer.from(JSON.stringify(header), 'utf8').toString('base64url'), {
      ...claims,
      aud: 'https://self-issued.me/v2',
      iat: Math.floor(now / 1000),
      exp: Math.floor((doc.expiresAt ?? 0) / 1000),
    });
  }

  /**
   * The one conditional write that makes a response single use: the first answer for the request
   * records the presentation's hash and the outcome; undefined when it was already answered.
   */
  answer(id: string, presentationHash: string, outcome: string): Promise<WalletRequestDoc | undefined> {
    return this.#requests.update(
      id,
      { answeredAt: 0 },
      { answeredAt: this.#clock.now(), presentationHash, outcome },
    );
  }
}
