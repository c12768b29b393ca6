import type { JWK } from 'jose';
import type { Clock } from '../../clock.ts';
import type { KeyStore, ManagedKey } from '../../keys/spi.ts';

/**
 * The credential format SPI. A format is a plain object in a registry keyed by its OpenID4VCI
 * `format` identifier (OpenID4VCI 1.0 Appendix A): claims + holder binding + configuration in,
 * credential out. Formats never see HTTP, never store anything and never allocate status indices:
 * the issuance layer does that and hands the results in.
 */

/** OpenID4VCI 1.0 Appendix A format identifiers. */
export type FormatId = 'ldp_vc' | 'jwt_vc_json' | 'dc+sd-jwt' | 'mso_mdoc';

/** The key the wallet proved possession of (OpenID4VCI 1.0 §8.2.1, proof types). */
export interface HolderBinding {
  /** Public JWK of the proof key (never private members). */
  jwk: JWK;
  /**
   * The DID the wallet used in its proof (`did:key:…` or `did:jwk:…`, without fragment), when it
   * used one. Formats that need a subject id derive `did:jwk` from `jwk` when this is absent.
   */
  did?: string;
}

/** A W3C Bitstring Status List entry (ldp_vc, jwt_vc_json). https://www.w3.org/TR/vc-bitstring-status-list/ */
export interface BitstringStatusEntry {
  kind: 'bitstring';
  purpose: 'revocation' | 'suspension';
  /** URL of the status list credential (one list shared by many credentials). */
  listCredentialUrl: string;
  /** Random, unique index in that list, allocated by the status service. */
  index: number;
}

/** An IETF Token Status List reference (dc+sd-jwt, mso_mdoc). draft-ietf-oauth-status-list §6 */
export interface TokenStatusEntry {
  kind: 'token';
  /** URI of the status list token. */
  uri: string;
  /** Index in that list. */
  idx: number;
}

export type StatusEntry = BitstringStatusEntry | TokenStatusEntry;

/** Per credential configuration settings a format needs (from the configuration registry). */
export interface FormatProfile {
  /** OpenID4VCI `credential_configuration_id`. */
  configurationId: string;
  /** Credential types after `VerifiableCredential` (ldp_vc, jwt_vc_json), e.g. `['NationalIdCredential']`. */
  types: string[];
  /**
   * Extra JSON-LD contexts after the VC base context (ldp_vc only), e.g. our claims context URL.
   * Every URL must be served by the offline document loader.
   */
  contexts: string[];
  /** ldp_vc proof suite; defaults to `eddsa-rdfc-2022` (VCDM 2.0). `Ed25519Signature2020` means VCDM 1.1. */
  cryptosuite?: 'eddsa-rdfc-2022' | 'ecdsa-rdfc-2019' | 'Ed25519Signature2020';
  /** JOSE algorithm for jwt_vc_json, dc+sd-jwt and mso_mdoc; defaults to `ES256`. */
  alg?: 'EdDSA' | 'ES256';
  /** dc+sd-jwt: the `vct` value. */
  vct?: string;
  /** mso_mdoc: document type, e.g. `org.iso.18013.5.1.mDL`. */
  doctype?: string;
  /** mso_mdoc: namespace the claims go into. */
  namespace?: string;
  /** dc+sd-jwt: claim paths (dot-separated, e.g. `address.locality`) that are selectively disclosable. */
  selectivelyDisclosable?: string[];
}

export interface IssueRequest {
  profile: FormatProfile;
  /** credentialSubject claims, already mapped from the identity system and validated. No `id`. */
  claims: Record<string, unknown>;
  /** Absent when the configuration has no cryptographic binding. */
  holder?: HolderBinding;
  /** Status entries allocated for this credential (at most one per purpose). */
  status?: StatusEntry[];
  /** Start of validity, already rounded by the caller per the time-claim privacy policy (SECURITY.md row 36). */
  validFrom: Date;
  /** End of validity, rounded likewise. */
  validUntil?: Date;
  /** Optional credential identifier (`id` in VCDM, `jti` in JWTs). Usually absent: ids link presentations. */
  credentialId?: string;
}

/** What a format issues: a compact string (JWT, SD-JWT, base64url mdoc) or a JSON object (ldp_vc). */
export type IssuedCredential = string | Record<string, unknown>;

export interface CredentialFormat {
  readonly id: FormatId;
  issue(req: IssueRequest): Promise<IssuedCredential>;
}

/** What every format uses. */
export interface FormatBaseDeps {
  /** Credential keys (purpose `credential`), ready `KeyObject`s. */
  keys: KeyStore;
  /** The issuer's public base URL (no trailing slash); the did:web DID and context URLs derive from it. */
  publicUrl: string;
  clock: Clock;
}

/** What the formats need from the issuer CA (src/credentials/x509/issuer-ca.ts, the IACA). */
export interface IssuerCaSource {
  /** DER of the document signer certificate for this credential key (mso_mdoc `x5chain`). */
  documentSigner(key: ManagedKey): Promise<Uint8Array>;
  /** The certificate chain of this credential key as a JOSE `x5c` (dc+sd-jwt), leaf first. */
  joseX5c(key: ManagedKey): Promise<string[]>;
}

/**
 * Everything the format registry builds the formats from. The issuer CA is required: mso_mdoc
 * cannot sign without its document signer certificate, so a registry without one does not build.
 * Each factory declares the part it uses (`FormatBaseDeps` plus what it needs of the CA).
 */
export interface FormatDeps extends FormatBaseDeps {
  issuerCa: IssuerCaSource;
}

export type FormatFactory = (deps: FormatDeps) => CredentialFormat;
