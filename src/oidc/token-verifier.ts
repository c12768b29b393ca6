import { createLocalJWKSet, type JWK, jwtVerify } from 'jose';
import type { Clock } from '../clock.ts';
import { InvalidToken } from '../errors.ts';
import type { Store } from '../store/spi.ts';
import type { IssuanceGrant, TokenVerifier } from './bridge.ts';
import { DPOP_ALGORITHMS, verifyDpopProof } from './dpop.ts';
import type { OidcProvider } from './provider.ts';
import type { OidcState } from './state.ts';
import { JWT_ACCESS_TOKENS, type JwtAccessTokenDoc } from './token-response.ts';

/** An RFC 9068 JWT access token (only for clients with jwt_access_token_c_nonce); others are opaque. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_TOKEN_CHARS = 8192;

/** What the verifier reads of an access token, opaque (the provider's model) or JWT. */
interface AccessTokenView {
  exp: number;
  aud?: string | string[];
  jkt?: string;
  grantId?: string;
  clientId?: string;
  scope?: string;
  rar?: unknown[];
}

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
  /** The provider's public signing keys (JWT access tokens, RFC 9068 §4). */
  publicKeys?: () => JWK[];
}): TokenVerifier {
  const jwtRecords = deps.store.collection<JwtAccessTokenDoc>({ name: JWT_ACCESS_TOKENS });
  /** RFC 9068 §4: typ at+jwt, signed by this issuer, for this audience, not expired; its grant recorded. */
  const findJwt = async (token: string): Promise<AccessTokenView | undefined> => {
    if (!deps.publicKeys) return undefined;
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: deps.publicKeys() }), {
        typ: 'at+jwt',
        issuer: deps.issuer,
        audience: deps.issuer,
        currentDate: new Date(deps.clock.now()),
        algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      });
      const record = typeof payload.jti === 'string' ? await jwtRecords.get(payload.jti) : undefined;
      if (!record) return undefined;
      return {
        exp: payload.exp!,
        aud: payload.aud,
        jkt: (payload.cnf as { jkt?: string } | undefined)?.jkt,
        grantId: record.grantId,
        clientId: payload.client_id as string | undefined,
        scope: payload.scope as string | undefined,
        rar: payload.authorization_details as unknown[] | undefined,
      };
    } catch {
      return undefined;
    }
  };
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
      const jwt = JWT_SHAPE.test(token);
      if (token.length > (jwt ? MAX_TOKEN_CHARS : 2048)) throw invalid('the access token is malformed');
      const provider = await deps.provider();
      const at: AccessTokenView | undefined = jwt
        ? await findJwt(token)
        : await provider.AccessToken.find(token);
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
        grantId: at.grantId!,
        // A pre-authorized token has no provider client; the grant names the attested wallet, if any.
        clientId: at.clientId ?? record.clientId,
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
