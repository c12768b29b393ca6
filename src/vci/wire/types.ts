import type { JWK } from 'jose';

/**
 * The OpenID4VCI requests as the issuance core sees them: typed, validated, the same for every
 * protocol version. The decoders of each version (v1.ts, draft13.ts) produce them; nothing here
 * names a version or a draft-13 field.
 */

/** Key proofs of a credential request (OpenID4VCI 1.0 §8.2, Appendix F). */
export type KeyProofs =
  | { readonly type: 'none' }
  /** Appendix F.1: one proof JWT per key, so one credential per key. */
  | { readonly type: 'jwt'; readonly jwts: readonly string[] }
  /** Appendix F.3: one key attestation naming every key. */
  | { readonly type: 'attestation'; readonly attestation: string };

/** §8.2: the credential named by a configuration the issuer offers. */
export interface ByConfiguration {
  readonly kind: 'configuration';
  readonly configurationId: string;
  readonly proofs: KeyProofs;
}

/** §8.2: the credential named by an identifier from the Token Response's authorization_details. */
export interface ByIdentifier {
  readonly kind: 'identifier';
  readonly credentialIdentifier: string;
  readonly proofs: KeyProofs;
}

export type CredentialRequest = ByConfiguration | ByIdentifier;

/**
 * §8.2 / §10: the parameters a wallet asks its answer to be encrypted with, checked on the wire
 * (shape, supported alg and enc); the key itself is checked by src/vci/encryption.ts.
 */
export interface ResponseEncryptionParameters {
  readonly jwk: JWK;
  readonly alg: string;
  readonly enc: string;
}

/** A decoded credential request: what to issue, and how the answer travels (an edge concern). */
export interface DecodedCredentialRequest {
  readonly request: CredentialRequest;
  readonly encryption: ResponseEncryptionParameters | undefined;
}

/** §9.1. */
export interface DeferredCredentialRequest {
  readonly transactionId: string;
  readonly encryption: ResponseEncryptionParameters | undefined;
}

/** §11.1. */
export type NotificationEvent = 'credential_accepted' | 'credential_failure' | 'credential_deleted';

export interface NotificationRequest {
  readonly notificationId: string;
  readonly event: NotificationEvent;
  readonly eventDescription?: string;
}
