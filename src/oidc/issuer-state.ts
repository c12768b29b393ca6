import { errors } from 'oidc-provider';
import type { CredentialConfigurationsLink } from './bridge.ts';
import type { OidcState } from './state.ts';

/**
 * The credential configurations an authorization request asks for: by `scope` (OpenID4VCI 1.0
 * §5.1.2) and by `authorization_details` of type `openid_credential` (§5.1.1). Unknown ids are
 * kept: the caller decides what an unknown one means.
 */
export function requestedConfigurationIds(
  params: Record<string, unknown>,
  known: CredentialConfigurationsLink,
): string[] {
  const ids = new Set<string>();
  const scopes = known.scopes();
  for (const scope of String(params.scope ?? '').split(' ')) {
    const id = scopes.get(scope);
    if (id !== undefined) ids.add(id);
  }
  let details: unknown;
  try {
    details = JSON.parse(String(params.authorization_details ?? '[]'));
  } catch {
    // oidc-provider rejects unparseable authorization_details before any page is shown.
    return [...ids];
  }
  if (Array.isArray(details)) {
    for (const d of details) {
      if (d?.type === 'openid_credential' && typeof d.credential_configuration_id === 'string')
        ids.add(d.credential_configuration_id);
    }
  }
  return [...ids];
}

/**
 * OpenID4VCI 1.0 §5.1.3 (https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#section-5.1.3):
 * a wallet echoes the `issuer_state` of an authorization-code offer (§4.1.1) so the issuer can tie
 * the request to that offer. An `issuer_state` we did not issue, or one that expired, is refused
 * with `invalid_request` rather than ignored, and the request may not ask for credential
 * configurations the offer does not name. Runs at the authorization endpoint and at PAR
 * (oidc-provider `extraParams` validator, after request objects and pushed requests are merged).
 */
export function validateIssuerState(state: OidcState) {
  return async (ctx: { oidc: { params: Record<string, unknown> } }, value: unknown): Promise<void> => {
    if (value === undefined) return;
    const offer =
      typeof value === 'string' && value !== '' ? await state.issuerStates.resolve(value) : undefined;
    if (!offer) throw new errors.InvalidRequest('issuer_state is unknown or has expired');
    const requested = requestedConfigurationIds(ctx.oidc.params, state.credentialConfigurations);
    const outside = requested.filter((id) => !offer.credentialConfigurationIds.includes(id));
    if (outside.length > 0) {
      throw new errors.InvalidRequest(
        `the credential offer of this issuer_state does not include ${outside.join(', ')}`,
      );
    }
  };
}
