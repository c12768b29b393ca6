import { errors } from 'oidc-provider';
import { AppError } from '../errors.ts';
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

/**
 * The `authorization_details` of a token request we answer ourselves (the pre-authorized grant;
 * OpenID4VCI 1.0 §6.1, RFC 9396 §6): undefined when absent, else a non-empty array of
 * `openid_credential` details each naming a configuration. Anything else is
 * `invalid_authorization_details` (RFC 9396 §5), before any code is spent.
 */
export function parseTokenRequestDetails(raw: string | null): Record<string, unknown>[] | undefined {
  if (raw === null) return undefined;
  const refuse = (why: string) => new AppError(400, 'invalid_authorization_details', why);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw refuse('authorization_details must be a JSON array');
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > 20)
    throw refuse('authorization_details must be a non-empty JSON array');
  for (const detail of parsed) {
    if (!detail || typeof detail !== 'object' || Array.isArray(detail))
      throw refuse('each authorization detail must be an object');
    const { type, credential_configuration_id: id } = detail as Record<string, unknown>;
    if (type !== 'openid_credential') throw refuse('authorization detail type must be openid_credential');
    if (typeof id !== 'string' || id === '')
      throw refuse('credential_configuration_id must be a non-empty string');
  }
  return parsed as Record<string, unknown>[];
}
