import type { Factor, IdentitySystem, TransactionRef } from '../../kyc/spi.ts';
import {
  type AcrRule,
  type ClaimSet,
  describeRequest,
  parseClaimsParam,
  requestedAcrs,
  resolveAcrs,
} from '../claims.ts';
import { type ClaimVerification, verifiedDetails } from '../verified-claims.ts';
import type { LoginDeps, LoginSession } from './session.ts';

/** What a login may use and must release: identity system, ACRs, factors and claims. Pure. */

export function systemFor(deps: LoginDeps, session: LoginSession): IdentitySystem {
  const systems = deps.state.identitySystems;
  const named = session.client.meta.identity_system;
  return typeof named === 'string' ? systems.get(named) : systems.forClient(session.client.clientId);
}

/** The transaction as identity systems see it; the sector is the host pairwise subjects are for. */
export function transactionRef(session: LoginSession): TransactionRef {
  const { client } = session;
  const uri = client.meta.sector_identifier_uri || client.redirectUris[0];
  return {
    transactionId: session.uid,
    clientId: client.clientId,
    sectorIdentifier: uri ? new URL(String(uri)).host : client.clientId,
  };
}

export function acrRules(deps: LoginDeps, session: LoginSession): AcrRule[] {
  return resolveAcrs(deps.acrTable, requestedAcrs(session.params), session.client.meta.allowed_acr_values);
}

/** Factors this login may use: those the ACRs allow and the identity system supports. */
export function factorsFor(deps: LoginDeps, session: LoginSession, system: IdentitySystem): Factor[] {
  const supported = system.supportedFactors();
  const wanted = new Set(acrRules(deps, session).flatMap((r) => r.factors));
  return [...wanted].filter((f) => supported.includes(f));
}

/**
 * Details asked for as verified (`verified_claims`) and how the signed-in person's records verify
 * each; {} before sign-in or when none is asked for as verified.
 */
export function verifiedClaimDetails(
  deps: LoginDeps,
  session: LoginSession,
): Record<string, ClaimVerification[]> {
  const verified = claimSet(deps, session).verified ?? [];
  return session.tx.auth ? verifiedDetails(verified, session.tx.auth.verifications ?? []) : {};
}

export function claimSet(deps: LoginDeps, session: LoginSession): ClaimSet {
  return describeRequest(
    session.params,
    session.client.meta.allowed_claims,
    deps.state.extraClaimsFor(session.params),
  );
}

/** Credential configurations the request asks for, by scope and by `openid_credential` details. */
export function credentialIds(deps: LoginDeps, session: LoginSession): string[] {
  const set = claimSet(deps, session);
  const scopes = deps.state.credentialConfigurations.scopes();
  const fromScope = set.scopes.flatMap((s) => (scopes.has(s) ? [scopes.get(s)!] : []));
  const fromDetails = set.authorizationDetails.flatMap((d) =>
    d.type === 'openid_credential' && typeof d.credential_configuration_id === 'string'
      ? [d.credential_configuration_id]
      : [],
  );
  return [...new Set([...fromScope, ...fromDetails])];
}

export function consentRequired(session: LoginSession): boolean {
  return String(session.params.prompt ?? '')
    .split(' ')
    .includes('consent');
}

/**
 * Why nobody could meet this login's authentication requirements here, if so. OIDC Core 1.0
 * §5.5.1.1 (https://openid.net/specs/openid-connect-core-1_0.html#acrSemantics): an essential `acr`
 * that cannot be met MUST be treated as a failed authentication (OpenID Connect Core Error Code
 * unmet_authentication_requirements 1.0 §1 also allows the code for other unmet requirements: here
 * `acr_values` none of which the service supports and the client may use, and a login no factor of
 * the identity system can satisfy). A voluntary `acr` claim falls back to any allowed level.
 */
export function unmetReason(deps: LoginDeps, session: LoginSession): string | undefined {
  const acr = parseClaimsParam(session.params.claims).id_token?.acr;
  const fromClaims = Boolean(acr && (acr.values?.length || typeof acr.value === 'string'));
  const requested = requestedAcrs(session.params);
  const strict = requested.length > 0 && (!fromClaims || acr?.essential === true);
  const allowed = session.client.meta.allowed_acr_values;
  const usable = deps.acrTable.filter((r) => !allowed?.length || allowed.includes(r.acr));
  if (strict && !usable.some((r) => requested.includes(r.acr))) {
    return 'none of the requested authentication levels (acr) is available to this application';
  }
  if (factorsFor(deps, session, systemFor(deps, session)).length === 0) {
    return 'no way of signing in meets the requested authentication level';
  }
  return undefined;
}
