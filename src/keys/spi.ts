import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';

/**
 * The KeyStore SPI. The default implementation (./key-store.ts) generates keys on first start and
 * keeps private keys encrypted at rest in the store; a KMS/HSM implementation can replace it
 * without touching callers, because callers only ever get ready-to-use `KeyObject`s.
 */

/**
 * What a key signs: verifiable credentials and status lists, or OIDC tokens (ID token, userinfo,
 * JARM); or, for `encryption`, what it decrypts: credential requests encrypted to the issuer
 * (OpenID4VCI 1.0 §10 and §12.2.4 `credential_request_encryption`).
 */
export type KeyPurpose = 'credential' | 'oidc' | 'encryption';
/** JOSE algorithm names. Ed25519 keys are `EdDSA`; `ECDH-ES` keys are P-256 key-agreement keys. */
export type KeyAlgorithm = 'EdDSA' | 'ES256' | 'RS256' | 'ECDH-ES';

export interface ManagedKey {
  /** RFC 7638 JWK thumbprint of the public key; also the did:web fragment (`did:web:…#<kid>`). */
  readonly kid: string;
  readonly purpose: KeyPurpose;
  readonly alg: KeyAlgorithm;
  /** `active` signs; `retired` only verifies until `publishUntil`. */
  readonly status: 'active' | 'retired';
  /** Epoch ms. */
  readonly createdAt: number;
  readonly retiredAt?: number;
  /** Epoch ms after which a retired key is no longer published. */
  readonly publishUntil?: number;
  /** Public JWK with `kid`, `alg` and `use` (`sig`; `enc` for ECDH-ES). Never holds private members. */
  readonly publicJwk: Readonly<JWK>;
  readonly publicKey: KeyObject;
  /** Ready for signing; imported once at load, never re-imported per signature. */
  readonly privateKey: KeyObject;
}

export interface KeyStore {
  /**
   * Loads keys, generating any missing active key, and returns the keys it generated. With
   * `generate: false` a store holding no key at all is refused (KeysMissing) instead: new keys for
   * a store that lost its own would silently invalidate everything signed before. Throws
   * KeyDecryptionFailed on a wrong secret.
   */
  init(options?: { generate?: boolean }): Promise<ManagedKey[]>;
  /** The key that signs now for this purpose and algorithm. */
  active(purpose: KeyPurpose, alg: KeyAlgorithm): ManagedKey;
  /** Active keys plus retired keys still inside their publication window, newest first. */
  published(purpose: KeyPurpose): ManagedKey[];
  /** Any published key by kid (for verification). */
  find(kid: string): ManagedKey | undefined;
  /** Generates new active keys for the purpose (all its algorithms, or one), retiring the previous ones. */
  rotate(purpose: KeyPurpose, alg?: KeyAlgorithm): Promise<ManagedKey[]>;
  /** Re-reads keys from the store (other instances may have rotated). */
  reload(): Promise<void>;
}

/** Algorithms generated for each purpose. */
export const ALGORITHMS: Record<KeyPurpose, KeyAlgorithm[]> = {
  credential: ['EdDSA', 'ES256'],
  oidc: ['RS256', 'ES256'],
  encryption: ['ECDH-ES'],
};

export class KeyDecryptionFailed extends Error {
  override name = 'KeyDecryptionFailed';
}

/** The store holds no key and generating them was not asked for (`init({ generate: false })`). */
export class KeysMissing extends Error {
  override name = 'KeysMissing';
}
