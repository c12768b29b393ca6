import type { FormatId, FormatProfile } from '../formats/types.ts';

/**
 * Credential configurations: what an issuer configures. One file (or admin API document) is a
 * *definition*: one credential dataset (claims mapped from identity claims, a subject JSON Schema,
 * a JSON-LD context, display, validity, status, holder binding) offered in one or more formats.
 * Each format variant is one OpenID4VCI `credential_configuration_id` (OpenID4VCI 1.0 §12.2.4).
 */

/** OpenID4VCI `credential_configuration_id`. */
export type CredentialConfigurationId = string;
/** The definition's own id (file level), e.g. `national-id`. */
export type DefinitionId = string;

/** Display entry per language (OpenID4VCI 1.0 §12.2.4 `credential_metadata.display`). */
export interface CredentialDisplay {
  name: string;
  locale?: string;
  logo?: { uri: string; alt_text?: string };
  description?: string;
  background_color?: string;
  background_image?: { uri: string };
  text_color?: string;
}

export interface ClaimDisplay {
  name: string;
  locale?: string;
}

/**
 * How a value is derived from the identity claims. Sources are OIDC claim names (`given_name`,
 * `birthdate`), a member of a structured claim (`address.locality`) or a language-tagged claim
 * (`name#ar`, OIDC Core §5.2).
 */
export type ClaimTransform =
  /** Reformat an ISO date (`YYYY-MM-DD`): `YYYY-MM-DD`, `YYYY`, `DD/MM/YYYY`, `MM/DD/YYYY`, `YYYYMMDD`. */
  | { type: 'date'; format: 'YYYY-MM-DD' | 'YYYY' | 'DD/MM/YYYY' | 'MM/DD/YYYY' | 'YYYYMMDD' }
  /** The year of an ISO date, as an integer. */
  | { type: 'year' }
  /** true when the ISO date lies at least `years` years before issuance. */
  | { type: 'ageOver'; years: number }
  /** One language variant: the request's claims locales first, then `prefer`, then the untagged claim. */
  | { type: 'language'; prefer?: string[] }
  /** A JSON-LD language map `{en: …, ar: …}` from `<source>#<lang>` (untagged value for the first language). */
  | { type: 'languageMap'; languages: string[] }
  /** Replace values through a table (e.g. gender codes); unknown values are dropped. */
  | { type: 'map'; values: Record<string, string | number | boolean> }
  /** A fixed value (no source needed). */
  | { type: 'constant'; value: string | number | boolean };

export interface ClaimMapping {
  /** Where the value goes inside the credential subject, e.g. `["address", "locality"]`. */
  path: string[];
  /** Identity claim to read (absent only with a `constant` transform). */
  source?: string;
  transform?: ClaimTransform;
  /** The credential is not issued without this claim (also `mandatory` in metadata). */
  mandatory?: boolean;
  display?: ClaimDisplay[];
}

/** Format-specific settings of one variant (one `credential_configuration_id`). */
export interface FormatVariant {
  /** The OpenID4VCI credential_configuration_id of this variant. */
  configurationId: CredentialConfigurationId;
  /** OAuth scope of this variant; default: the definition's scope for the first format, `<scope>_<format>` for the others. */
  scope?: string;
  cryptosuite?: FormatProfile['cryptosuite'];
  alg?: FormatProfile['alg'];
  vct?: string;
  doctype?: string;
  namespace?: string;
  selectivelyDisclosable?: string[];
}

export interface CredentialDefinition {
  id: DefinitionId;
  /** Increases by one on every update through the admin API. */
  version?: number;
  /** OAuth scope that requests this credential (HAIP: every configuration has one). Per format: `<scope>` is shared. */
  scope?: string;
  /** Credential types after `VerifiableCredential` (W3C formats). */
  types: string[];
  /** Names of JSON-LD context files in `contexts/` (without `.jsonld`), served at `${publicUrl}/contexts/<name>.jsonld`. */
  contexts: string[];
  /** File name of the subject JSON Schema in `schemas/`. */
  schema: string;
  /** Validity period of issued credentials, in seconds (absent: no expiry). */
  validitySeconds?: number;
  /** Whether issued credentials carry a status entry (revocation). */
  status: boolean;
  /** Holder binding; absent means bearer credentials (no proof). */
  binding?: {
    /** `did:key`, `did:jwk`, `jwk`; `cose_key` is implied for mso_mdoc. */
    methods: string[];
    /** Proof JWT algorithms accepted (asymmetric only). */
    proofSigningAlgs: string[];
    /**
     * `key_attestations_required` (OpenID4VCI 1.0 §12.2.4): proofs must come with a key attestation
     * from a trusted issuer attesting one of these levels (e.g. `iso_18045_high`); `{}` = any level.
     */
    keyAttestationsRequired?: { key_storage?: string[]; user_authentication?: string[] };
  };
  formats: Partial<Record<FormatId, FormatVariant>>;
  display: CredentialDisplay[];
  claims: ClaimMapping[];
  /** Identity claims used to check the mapping against the schema at load (defaults: a built-in sample person). */
  sample?: Record<string, unknown>;
  /** Set when retired through the admin API: no longer offered, issued or published. */
  retired?: boolean;
}

/** One `credential_configuration_id`, resolved and ready for issuance. */
export interface ResolvedConfiguration {
  readonly id: CredentialConfigurationId;
  readonly format: FormatId;
  /** OAuth scope requesting exactly this configuration (OpenID4VCI 1.0 §5.1.2). */
  readonly scope?: string;
  readonly definition: CredentialDefinition;
  /** What the format needs, with URLs resolved against the public URL. */
  readonly profile: FormatProfile;
  /** Full context URLs (W3C formats). */
  readonly contextUrls: string[];
  /** Top-level identity claim names the mapping reads (what consent must cover). */
  readonly identityClaims: string[];
}
