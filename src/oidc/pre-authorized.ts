import { AppError, InvalidRequest } from '../errors.ts';
import { randomId } from '../random.ts';
import type { Services } from '../services.ts';
import { withCredentialIdentifiers } from './credential-details.ts';
import { verifyDpopProof } from './dpop.ts';
import type { OidcProvider } from './provider.ts';
import type { OidcState } from './state.ts';

/**
 * The OpenID4VCI 1.0 §6.1 pre-authorized code grant, answered in front of oidc-provider because
 * oidc-provider 9.13 insists on a client_id at the token endpoint while OpenID4VCI allows anonymous
 * redemption (§6.1: "client authentication is OPTIONAL"; our metadata says
 * `pre-authorized_grant_anonymous_access_supported: true`). The token endpoint's HTTP side is
 * src/http/oidc/pre-authorized.ts.
 */

export interface PreAuthorizedGrantDeps {
  readonly services: Services;
  readonly state: OidcState;
  provider(): Promise<OidcProvider>;
  /** The token endpoint's URL, which a DPoP proof must name (RFC 9449 §4.3). */
  readonly tokenUrl: string;
}

/** A token request with `grant_type` `urn:ietf:params:oauth:grant-type:pre-authorized_code`. */
export interface PreAuthorizedTokenRequest {
  /** The form parameters, as sent. */
  readonly form: URLSearchParams;
  /** The `DPoP` header, when sent. */
  readonly dpopProof: string | undefined;
}

/** The successful token response (RFC 6749 §5.1, OpenID4VCI 1.0 §6.2). */
export interface PreAuthorizedTokenResponse {
  readonly access_token: string;
  readonly token_type: 'DPoP' | 'Bearer';
  readonly expires_in: number;
  readonly authorization_details?: readonly Record<string, unknown>[];
  readonly c_nonce: string;
  readonly c_nonce_expires_in: number;
}

/**
 * Redeems the pre-authorized code once and mints the access token: the grant record it stands on
 * keeps what the offer named (person, identity system, consented claims, configurations).
 */
export async function redeemPreAuthorizedGrant(
  { services, state, provider, tokenUrl }: PreAuthorizedGrantDeps,
  { form, dpopProof }: PreAuthorizedTokenRequest,
): Promise<PreAuthorizedTokenResponse> {
  for (const name of new Set(form.keys())) {
    // RFC 6749 §3.1: parameters MUST NOT be included more than once.
    if (form.getAll(name).length > 1)
      throw new InvalidRequest(`parameter "${name}" is included more than once`);
  }
  const code = form.get('pre-authorized_code');
  if (!code) throw new InvalidRequest('pre-authorized_code is required');
  const txCode = form.get('tx_code') ?? undefined;
  const resource = form.get('resource');
  // RFC 8707 §2: the only resource this authorization server issues tokens for is the credential issuer.
  if (resource !== null && resource !== services.config.resolved.publicUrl) {
    throw new AppError(400, 'invalid_target', 'resource must be the credential issuer identifier');
  }
  // Validate the DPoP proof before consuming the code, so a bad proof does not burn it.
  const jkt = dpopProof
    ? await verifyDpopProof(
        { proof: dpopProof, method: 'POST', url: tokenUrl },
        services.clock,
        services.store,
      )
    : undefined;

  const redeemed = await state.preAuthorizedCodes.redeem(code, txCode);
  const p = await provider();
  const grantId = randomId(16);
  const requested = redeemed.authorizationDetails.length
    ? [...redeemed.authorizationDetails]
    : redeemed.credentialConfigurationIds.map((id) => ({
        type: 'openid_credential',
        credential_configuration_id: id,
      }));
  const details = withCredentialIdentifiers(requested);
  await state.grants.save(
    {
      _id: grantId,
      accountId: redeemed.accountId,
      subject: redeemed.accountId,
      identitySystem: redeemed.identitySystem,
      consentedClaims: [...redeemed.consentedClaims],
      claimsLocales: [],
      credentialConfigurationIds: [...redeemed.credentialConfigurationIds],
      authorizationDetails: details,
    },
    services.config.oidc.refreshTokenAbsoluteSeconds,
  );
  const at = new p.AccessToken({
    accountId: redeemed.accountId,
    grantId,
    gty: 'pre-authorized_code',
    expiresWithSession: false,
    rar: details.length ? details : undefined,
  });
  at.aud = services.config.resolved.publicUrl;
  if (jkt) at.jkt = jkt;
  const accessToken: string = await at.save();
  services.metrics.offersRedeemed.inc();
  // Draft 13 §6.2: wallets of that version (MOSIP Inji among them) take their first c_nonce from
  // the token response; 1.0 wallets ignore these members and use the nonce endpoint.
  const cNonce = await state.cNonces.issue();
  return {
    access_token: accessToken,
    token_type: jkt ? 'DPoP' : 'Bearer',
    expires_in: at.expiration,
    ...(details.length ? { authorization_details: details } : {}),
    c_nonce: cNonce.nonce,
    c_nonce_expires_in: cNonce.expiresInSeconds,
  };
}
