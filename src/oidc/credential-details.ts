import { errors } from 'oidc-provider';
import type { OidcState } from './state.ts';

/** `openid_credential` authorization details (OpenID4VCI 1.0 §5.1.1, §6.2) at the provider. */

type OidcCtx = any;

/** OpenID4VCI 1.0 §5.1.1: `openid_credential` details name a configuration the issuer offers. */
export function validateCredentialDetail(state: OidcState) {
  return async (_ctx: OidcCtx, detail: Record<string, unknown>) => {
    const id = detail.credential_configuration_id;
    if (typeof id !== 'string' || id === '') {
      throw new errors.InvalidAuthorizationDetails('credential_configuration_id must be a non-empty string');
    }
    if (!state.credentialConfigurations.has(id)) {
      throw new errors.InvalidAuthorizationDetails(`unknown credential_configuration_id "${id}"`);
    }
  };
}

/** OpenID4VCI 1.0 §6.2: the token response names one credential identifier per configuration. */
export function withCredentialIdentifiers(details: unknown[]): Record<string, unknown>[] {
  return details.map((raw) => {
    const detail = raw as Record<string, unknown>;
    if (detail.type !== 'openid_credential' || typeof detail.credential_configuration_id !== 'string')
      return detail;
    return { ...detail, credential_identifiers: [detail.credential_configuration_id] };
  });
}
