import type { IssuanceGrant } from '../../oidc/bridge.ts';
import { fits } from './schema.ts';

/**
 * The access token's grant as the issuance side uses it: `authorization_details` (RFC 9396, as the
 * Token Response of OpenID4VCI 1.0 §6.2 returns them) decoded once into the credential identifiers
 * they grant, so nothing after the edge reads untyped details.
 */
export interface CredentialGrant extends Omit<IssuanceGrant, 'authorizationDetails'> {
  /** credential_identifier → credential_configuration_id; the first detail naming an identifier wins. */
  readonly credentialIdentifiers: ReadonlyMap<string, string>;
}

// §6.2: each `openid_credential` detail names its configuration and the identifiers issued for it.
const identifyingDetail = fits<{ credential_configuration_id: string; credential_identifiers: unknown[] }>({
  type: 'object',
  required: ['credential_configuration_id', 'credential_identifiers'],
  properties: { credential_configuration_id: { type: 'string' }, credential_identifiers: { type: 'array' } },
});

export function decodeGrant(grant: IssuanceGrant): CredentialGrant {
  const { authorizationDetails, ...rest } = grant;
  const credentialIdentifiers = new Map<string, string>();
  for (const detail of authorizationDetails) {
    if (!identifyingDetail(detail)) continue;
    for (const identifier of detail.credential_identifiers) {
      if (typeof identifier === 'string' && !credentialIdentifiers.has(identifier))
        credentialIdentifiers.set(identifier, detail.credential_configuration_id);
    }
  }
  return { ...rest, credentialIdentifiers };
}
