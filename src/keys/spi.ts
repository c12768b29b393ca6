import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';

/**
 * The KeyStore SPI. The default implementation (./key-store.ts) generates keys on first start and
 * keeps private keys encrypted at rest in the store; a KMS/HSM implementation can replace it
 * without touching callers: they sign through `ManagedKey.sign`, which is the same synchronous call
 * whether the private key is an in-process `KeyObject` or a non-extractable object inside a PKCS#11
 * token (./pkcs11.ts).
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
  /**
   * Where the private key lives: `software` (in this process, encrypted at rest in the store) or
   * `pkcs11` (generated inside the token, never exported).
   */
  readonly backend: KeyBackend;
  /**
   * Signs `data` and returns the signature as JOSE encodes it: EdDSA raw Ed25519 (RFC 8037), ES256
   * r‖s over SHA-256 (RFC 7518 §3.4, also what ecdsa-rdfc-2019 and COSE use), RS256
   * RSASSA-PKCS1-v1_5 with SHA-256. Synchronous for both backends (one `crypto.sign`; one
   * C_SignInit + C_Sign). Throws for ECDH-ES keys, which do not sign.
   */
  readonly sign: (data: Uint8Array) => Buffer;
  /**
   * The in-process private key, imported once at load. Only `software` keys have one; reading it on
   * a `pkcs11` key throws KeyNotExportable (sign with `sign` instead).
   */
  readonly privateKey: KeyObject;
}

export type KeyBackend = 'software' | 'pkcs11';

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

/** The private key lives in a PKCS#11 token and cannot be read: sign through `ManagedKey.sign`. */
export class KeyNotExportable extends Error {
  override name = 'KeyNotExportable';
}

/** The store holds no key and generating them was not asked for (`init({ generate: false })`). */
export class KeysMissing extends Error {
  override name = 'KeysMissing';
}
