/**
 * The contract between the OpenID Provider (src/oidc) and the credential issuer (src/vci). The
 * issuer never reads oidc-provider internals; the provider never knows credential formats.
 */

/** What the credential endpoint learns from a valid access token. */
export interface IssuanceGrant {
  /** The grant the token belongs to (revoking it revokes the token). */
  readonly grantId: string;
  /** The wallet's client_id; absent for anonymous pre-authorized code redemption. */
  readonly clientId?: string;
  /** The account: the identity system's subject for the individual (never the raw individual ID). */
  readonly accountId: string;
  /** Name of the identity system (registered in config) that holds the individual. */
  readonly identitySystem: string;
  /** Credential configurations the token may be used for (from scope or authorization_details). */
  readonly credentialConfigurationIds: readonly string[];
  /** authorization_details as granted (RFC 9396), with `credential_identifiers` filled in. */
  readonly authorizationDetails: readonly Record<string, unknown>[];
  /** Claim names the person consented to release into credentials. */
  readonly consentedClaims: readonly string[];
  /** RFC 9449 thumbprint when the token is DPoP-bound (the verifier has already checked the proof). */
  readonly dpopJkt?: string;
  /** Epoch ms. */
  readonly expiresAt: number;
  /**
   * A token of an external authorization server (src/vci/external-as) whose person the identity
   * system cannot name: the claims come from this call instead (the server's userinfo), asked for
   * only the accepted claims at issuance time and never stored.
   */
  readonly externalClaims?: (
    acceptedClaims: readonly string[],
  ) => Promise<{ claims: Record<string, unknown>; pending?: boolean }>;
  /**
   * A c_nonce the authorization server put in the access token (eSignet's `c_nonce` claim): a proof
   * nonce equal to it is accepted once until `expiresAt` (epoch ms), like a nonce of our own.
   */
  readonly tokenCNonce?: { readonly value: string; readonly expiresAt: number };
}

export interface TokenVerifier {
  /**
   * Validates the Authorization header (Bearer or DPoP) and, for DPoP, the DPoP proof against the
   * request's method and URL (RFC 9449 §4.3/§7). Throws `InvalidToken` (401, with WWW-Authenticate)
   * or `InvalidRequest`/`invalid_dpop_proof` errors from src/errors.ts.
   */
  verify(request: {
    authorization: string | undefined;
    dpop: string | undefined;
    method: string;
    url: string;
  }): Promise<IssuanceGrant>;
}

/** What a valid pre-authorized code stands for (OpenID4VCI 1.0 §4.1.1, §6.1). */
export interface PreAuthorizedGrant {
  readonly accountId: string;
  readonly identitySystem: string;
  readonly credentialConfigurationIds: readonly string[];
  readonly authorizationDetails: readonly Record<string, unknown>[];
  readonly consentedClaims: readonly string[];
}

export interface PreAuthorizedCodeRedeemer {
  /**
   * Consumes the code (single use, one conditional write) after checking the tx_code. A wrong
   * tx_code is counted and does not consume the code until the limit, which invalidates it; a
   * missing tx_code when one is required does not consume it. Throws `InvalidGrant` (or
   * `InvalidRequest` for a missing tx_code). `check` sees the grant before anything is counted or
   * consumed, and throws to refuse the request (what the wallet asked for was not offered).
   */
  redeem(
    code: string,
    txCode: string | undefined,
    check?: (grant: PreAuthorizedGrant) => void,
  ): Promise<PreAuthorizedGrant>;
}

/**
 * What the provider needs to know about credential configurations (built with the shared grants in
 * src/grants.ts, before the provider): to validate `authorization_details` of
 * type `openid_credential` (RFC 9396, OpenID4VCI 1.0 §5.1.1), to honour scope-based requests
 * (§5.1.2) and to show the claims a credential carries on the consent page.
 */
export interface CredentialConfigurationsLink {
  has(id: string): boolean;
  /** Claim names the configuration's credential carries (OIDC claim names, e.g. `name`, `birthdate`). */
  claimsFor(id: string): readonly string[];
  /** scope value → credential configuration id, for configurations that have a `scope`. */
  scopes(): ReadonlyMap<string, string>;
}

/**
 * Issues a c_nonce (OpenID4VCI 1.0 §7). The pre-authorized token response carries one, as
 * OpenID4VCI draft 13 §6.2 allows, so draft-13 wallets need no failed first request to learn it.
 */
export interface CNonceIssuer {
  issue(): Promise<{ nonce: string; expiresInSeconds: number }>;
}
