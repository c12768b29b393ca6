import { AppError, InvalidClient, InvalidRequest } from '../errors.ts';
import { randomId } from '../random.ts';
import type { Services } from '../services.ts';
import {
  ATTEST_JWT_CLIENT_AUTH,
  attestationChallenges,
  challengeSecret,
  configuredTrust,
  verifyClientAttestation,
} from './client-attestation.ts';
import { parseTokenRequestDetails, withCredentialIdentifiers } from './credential-details.ts';
import { verifyDpopProof } from './dpop.ts';
import { assertProfileDpopAlg } from './haip.ts';
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
  /** The `OAuth-Client-Attestation` and `OAuth-Client-Attestation-PoP` headers, when sent. */
  readonly clientAttestation?: string | undefined;
  readonly clientAttestationPop?: string | undefined;
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
  request: PreAuthorizedTokenRequest,
): Promise<PreAuthorizedTokenResponse> {
  const { form, dpopProof } = request;
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
  // OpenID4VCI 1.0 §6.1 / RFC 9396 §6: the wallet may name what it wants; only then does the
  // response carry authorization_details with credential_identifiers (§6.2).
  const askedDetails = parseTokenRequestDetails(form.get('authorization_details'));
  const haip = services.config.profile === 'haip';
  // Validate the DPoP proof before consuming the code, so a bad proof does not burn it.
  assertProfileDpopAlg(services.config, dpopProof);
  const jkt = dpopProof
    ? await verifyDpopProof(
        { proof: dpopProof, method: 'POST', url: tokenUrl },
        services.clock,
        services.store,
      )
    : undefined;
  const p = await provider();
  // The wallet's client, when it authenticated by attestation: the token is then not anonymous
  // (its leniencies and the proof's `iss` are that client's, OpenID4VCI 1.0 F.1).
  const attestedClient = await authenticateAttestedClient({
    services,
    form,
    request,
    provider: p,
    required: haip,
  });

  // What the wallet names must have been offered: checked before the code is counted or consumed.
  const redeemed = await state.preAuthorizedCodes.redeem(code, txCode, (grant) => {
    const offered = grant.credentialConfigurationIds;
    const unknown = askedDetails?.find((d) => !offered.includes(d.credential_configuration_id as string));
    if (unknown) {
      throw new AppError(
        400,
        'invalid_authorization_details',
        `credential_configuration_id "${String(unknown.credential_configuration_id)}" was not offered`,
      );
    }
  });
  const grantId = randomId(16);
  const offered = redeemed.credentialConfigurationIds;
  // Without authorization_details in the request, the access token still covers the offered
  // configurations, but names no credential identifiers: EUDI (eudi-lib-jvm-openid4vci-kt
  // RequestIssuanceImpl.validateRequestPayload) then requests by credential_configuration_id.
  const details = askedDetails
    ? withCredentialIdentifiers(askedDetails)
    : redeemed.authorizationDetails.length
      ? withCredentialIdentifiers([...redeemed.authorizationDetails])
      : offered.map((id) => ({ type: 'openid_credential', credential_configuration_id: id }));
  const answered = askedDetails || redeemed.authorizationDetails.length ? details : [];
  await state.grants.save(
    {
      _id: grantId,
      ...(attestedClient ? { clientId: attestedClient } : {}),
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
    ...(answered.length ? { authorization_details: answered } : {}),
    c_nonce: cNonce.nonce,
    c_nonce_expires_in: cNonce.expiresInSeconds,
  };
}

/**
 * Attestation-based client authentication for the pre-authorized grant (the provider checks it for
 * the grants it answers): when the headers are sent, or when the profile requires it (HAIP), the
 * attestation and PoP must verify and name a client registered with `attest_jwt_client_auth`.
 * Checked before the code is consumed.
 */
async function authenticateAttestedClient(input: {
  services: Services;
  form: URLSearchParams;
  request: PreAuthorizedTokenRequest;
  provider: OidcProvider;
  required: boolean;
}): Promise<string | undefined> {
  const { services, form, request, provider } = input;
  const { clientAttestation: attestation, clientAttestationPop: pop } = request;
  if (!attestation && !pop && !input.required) return undefined;
  const { config, clock } = services;
  const verified = await verifyClientAttestation(
    {
      attestation,
      pop,
      audience: config.resolved.publicUrl,
      trust: configuredTrust(config),
      clockToleranceSeconds: config.oidc.clockToleranceSeconds,
      challenges: attestationChallenges(challengeSecret(config.keys.encryptionSecret), clock),
      unique: (clientId, jti, expiresAt) => provider.ReplayDetection.unique(clientId, jti, expiresAt),
    },
    clock,
  );
  const clientId = form.get('client_id');
  if (clientId !== null && clientId !== verified.clientId)
    throw new InvalidClient('client authentication failed: client_id is not the client attestation sub');
  const client = await provider.Client.find(verified.clientId);
  if (!client || client.clientAuthMethod !== ATTEST_JWT_CLIENT_AUTH)
    throw new InvalidClient(
      'client authentication failed: no client is registered for attestation as this sub',
    );
  return verified.clientId;
}
