import type { Clock } from '../clock.ts';
import { InvalidToken } from '../errors.ts';
import type { Store } from '../store/spi.ts';
import type { IssuanceGrant, TokenVerifier } from './bridge.ts';
import { DPOP_ALGORITHMS, verifyDpopProof } from './dpop.ts';
import type { OidcProvider } from './provider.ts';
import type { OidcState } from './state.ts';

/**
 * Validates access tokens the provider issued (authorization code flow and our pre-authorized code
 * grant) for the credential endpoint, and maps them to an IssuanceGrant.
 * - RFC 6750 §2.1 / RFC 9449 §7.1: `Authorization: Bearer <t>` or `DPoP <t>`; a DPoP-bound token
 *   presented as Bearer is refused, so is a bearer token presented with the DPoP scheme.
 * - RFC 9449 §4.3: the proof's htm/htu/iat/ath, single-use jti, and `cnf.jkt` = proof key.
 * - The token's grant must still exist (revoking consent revokes it); `aud`, when set, must be
 *   this issuer (OpenID4VCI `resource`).
 */
export function createTokenVerifier(deps: {
  provider(): Promise<OidcProvider>;
  state: OidcState;
  issuer: string;
  clock: Clock;
  store: Store;
}): TokenVerifier {
  const challenge = (error?: string) => {
    const params = error ? `, error="${error}"` : '';
    return `DPoP algs="${DPOP_ALGORITHMS.join(' ')}"${params}, Bearer realm="credential"${params}`;
  };
  const invalid = (description: string) =>
    new InvalidToken(description, { headers: { 'WWW-Authenticate': challenge('invalid_token') } });

  return {
    async verify({ authorization, dpop, method, url }): Promise<IssuanceGrant> {
      const match = /^(Bearer|DPoP) ([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization ?? '');
      if (!match) {
        throw new InvalidToken('an access token is required', {
          headers: { 'WWW-Authenticate': challenge() },
        });
      }
      const scheme = match[1]!.toLowerCase();
      const token = match[2]!;
      if (token.length > 2048) throw invalid('the access token is malformed');
      const provider = await deps.provider();
      const at = await provider.AccessToken.find(token);
      if (!at) throw invalid('the access token is invalid, expired or revoked');
      if (at.exp * 1000 <= deps.clock.now()) throw invalid('the access token has expired');
      const aud = at.aud === undefined ? [] : Array.isArray(at.aud) ? at.aud : [at.aud];
      if (aud.length > 0 && !aud.includes(deps.issuer))
        throw invalid('the access token is not meant for this issuer');

      if (at.jkt) {
        if (scheme !== 'dpop') throw invalid('a DPoP-bound access token must be sent with the DPoP scheme');
        const jkt = await verifyDpopProof(
          { proof: dpop, method, url, accessToken: token },
          deps.clock,
          deps.store,
        );
        if (jkt !== at.jkt) throw invalid('the DPoP proof key does not match the access token binding');
      } else if (scheme === 'dpop') {
        throw invalid('the access token is not DPoP-bound: use the Bearer scheme');
      }

      const record = at.grantId ? await deps.state.grants.get(at.grantId) : undefined;
      if (!record) throw invalid('the access token grant was revoked');
      if (at.clientId) {
        const grant = await provider.Grant.find(at.grantId);
        if (!grant) throw invalid('the access token grant was revoked');
      }
      const rar = (at.rar ?? []) as Record<string, unknown>[];
      const scopes = deps.state.credentialConfigurations.scopes();
      const fromScope = String(at.scope ?? '')
        .split(' ')
        .flatMap((s) => (s && scopes.has(s) ? [scopes.get(s)!] : []));
      const fromDetails = rar.flatMap((d) =>
        d.type === 'openid_credential' && typeof d.credential_configuration_id === 'string'
          ? [d.credential_configuration_id]
          : [],
      );
      const ids = [...new Set([...fromScope, ...fromDetails])].filter(
        (id) =>
          record.credentialConfigurationIds.length === 0 || record.credentialConfigurationIds.includes(id),
      );
      return {
        grantId: at.grantId,
        clientId: at.clientId,
        accountId: record.accountId,
        identitySystem: record.identitySystem,
        credentialConfigurationIds: ids,
        authorizationDetails: rar,
        consentedClaims: record.consentedClaims,
        dpopJkt: at.jkt,
        expiresAt: at.exp * 1000,
      };
    },
  };
}
