import { hkdfSync } from 'node:crypto';
import Provider, { ExternalSigningKey, errors } from 'oidc-provider';
import type { Config } from '../config/defaults.ts';
import type { ManagedKey } from '../keys/spi.ts';
import type { Factor } from '../kyc/spi.ts';
import type { Services } from '../services.ts';
import { PRE_AUTHORIZED_GRANT } from '../vci/pre-authorized.ts';
import { findAccount, loadExistingGrant } from './accounts.ts';
import { createAdapterClass } from './adapter.ts';
import { type AcrRule, claimsConfig } from './claims.ts';
import { providerAttestationHooks } from './client-attestation.ts';
import {
  assertClientAssertion,
  assertRequestObject,
  clientAssertionAudiences,
  introspectionAllowed,
  validateExtraMetadata,
} from './client-checks.ts';
import { EXTRA_CLIENT_METADATA, hasLeniency } from './clients.ts';
import { clientBasedCors } from './cors.ts';
import { validateCredentialDetail, withCredentialIdentifiers } from './credential-details.ts';
import { esignetEndpoints } from './esignet-compat.ts';
import { validateIssuerState } from './issuer-state.ts';
import { createJwksFetcher } from './jwks-fetch.ts';
import type { OidcState } from './state.ts';
import { jwtAccessTokenClaims, tokenResponseCNonce } from './token-response.ts';
import {
  assertClaimsParameter,
  identityAssuranceMetadata,
  installVerifiedClaimsMask,
} from './verified-claims.ts';

export type OidcProvider = any;
type OidcCtx = any;

/** OpenID4VCI 1.0 §6.1 pre-authorized code grant type (defined in src/vci/pre-authorized.ts). */
export { PRE_AUTHORIZED_GRANT };

/** Provider endpoints, relative to the issuer's path. */
export const ROUTES = {
  authorization: '/authorize',
  token: '/token',
  userinfo: '/userinfo',
  jwks: '/jwks',
  pushed_authorization_request: '/par',
  introspection: '/token/introspect',
  revocation: '/token/revoke',
  end_session: '/logout',
  // draft-ietf-oauth-attestation-based-client-auth: the attestation PoP's challenge.
  challenge: '/challenge',
} as const;

export function acrTable(config: Config): AcrRule[] {
  return config.oidc.acrFactors.map((e) => ({ acr: e.acr, factors: e.factors as Factor[] }));
}

/**
 * oidc-provider's external signing (features.externalSigningSupport, experimental-01): the provider
 * hands the JWS signing input to `sign` and publishes `keyObject()`'s public key. Used for keys
 * held in a PKCS#11 token, whose private key cannot be exported as a JWK.
 */
class ManagedSigningKey extends ExternalSigningKey {
  readonly #key: ManagedKey;
  constructor(key: ManagedKey) {
    super();
    this.#key = key;
    this.kid = key.kid;
    this.alg = key.alg;
  }
  override keyObject() {
    return this.#key.publicKey;
  }
  override async sign(data: Buffer): Promise<Buffer> {
    return this.#key.sign(data);
  }
}

/**
 * The provider's signing keys: active keys first (oidc-provider signs with the first key matching
 * the algorithm), then retired keys still published, so tokens signed before a rotation keep
 * verifying. In-process keys as private JWKs exported from their KeyObjects; PKCS#11 keys as
 * external signing keys. The provider is rebuilt when the set of published keys changes
 * (src/oidc/module.ts).
 */
export function providerJwks(keys: readonly ManagedKey[]): (Record<string, unknown> | ExternalSigningKey)[] {
  const ordered = [...keys].sort((a, b) => Number(b.status === 'active') - Number(a.status === 'active'));
  return ordered.map((key) =>
    key.backend === 'software'
      ? {
          ...(key.privateKey.export({ format: 'jwk' }) as Record<string, unknown>),
          kid: key.kid,
          alg: key.alg,
          use: 'sig',
        }
      : new ManagedSigningKey(key),
  );
}

/** What a provider instance was built from; a change rebuilds it. */
export function providerFingerprint(keys: readonly ManagedKey[], scopes: readonly string[]): string {
  // Compared on every token verification, never stored: JSON keeps kids and scopes apart, no hash needed.
  return JSON.stringify([keys.map((k) => `${k.kid}:${k.status}`), scopes]);
}

/** A 32-byte secret for one purpose, derived from the key-encryption secret. */
const derivedSecret = (secret: string, purpose: string) =>
  Buffer.from(hkdfSync('sha256', secret, 'idissuer-oidc', purpose, 32));

const cookieKey = (secret: string) =>
  Buffer.from(hkdfSync('sha256', secret, 'idissuer-oidc', 'cookies', 32)).toString('base64url');

export function buildProvider(
  services: Services,
  state: OidcState,
  credentialScopes: readonly string[],
): OidcProvider {
  const { config, clock, store, keys } = services;
  const o = config.oidc;
  const issuer = config.resolved.publicUrl;
  const table = acrTable(config);
  // HAIP 1.0 (config `profile`): wallets authenticate by attestation, ES256 only, PAR and DPoP required.
  const haip = config.profile === 'haip';
  const locales = config.oidc.uiLocales;

  const provider = new Provider(issuer, {
    adapter: createAdapterClass(store, clock, state.clients),
    jwks: { keys: providerJwks(keys.published('oidc')) },
    cookies: {
      keys: [cookieKey(config.keys.encryptionSecret)],
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    claims: claimsConfig(locales.filter((l) => l !== config.kyc.defaultClaimsLocale)),
    scopes: ['openid', 'offline_access', 'profile', 'email', 'phone', 'address', ...credentialScopes],
    acrValues: table.map((r) => r.acr),
    // OIDC Core §8.1 (https://openid.net/specs/openid-connect-core-1_0.html#PairwiseAlg): the account
    // id is already the pairwise subject the identity system derived for the client's sector (the
    // redirect URI host or sector_identifier_uri's host, src/oidc/interaction/routes.ts txRef), so
    // discovery says `pairwise` only, clients default to it, `public` is refused at registration, and
    // the provider's own pairwise step keeps the value as it is. oidc-provider also enforces §8.1's
    // rule that redirect URIs on several hosts need a sector_identifier_uri.
    subjectTypes: ['pairwise'],
    pairwiseIdentifier: async (_ctx: OidcCtx, accountId: string) => accountId,
    responseTypes: ['code'],
    clientAuthMethods: haip
      ? ['private_key_jwt', 'attest_jwt_client_auth']
      : ['private_key_jwt', 'none', 'attest_jwt_client_auth'],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      id_token_signed_response_alg: 'RS256',
      // eSignet: userinfo is always a signed JWT.
      userinfo_signed_response_alg: 'RS256',
    },
    // RFC 7636 / BCP §2.1.1: PKCE (S256 only in oidc-provider 9) for every client.
    pkce: { required: () => true },
    allowOmittingSingleRegisteredRedirectUri: false,
    // OpenID4VCI 1.0 §5.1.3: wallets echo the offer's issuer_state in the authorization request.
    extraParams: { issuer_state: validateIssuerState(state) },
    conformIdTokenClaims: true,
    extraTokenClaims: jwtAccessTokenClaims(state, services.store, clock),
    clockTolerance: o.clockToleranceSeconds,
    // Per-client CORS at token, userinfo, PAR, introspection, revocation (src/oidc/cors.ts).
    clientBasedCORS: clientBasedCors(o.corsOrigins),
    extraClientMetadata: { properties: EXTRA_CLIENT_METADATA, validator: validateExtraMetadata(table) },
    routes: ROUTES,
    interactions: {
      url: (_ctx: OidcCtx, interaction: { uid: string }) =>
        `${state.basePath}/interaction/${interaction.uid}`,
    },
    ttl: {
      // Never beyond the grant, whose lifetime is the consent's (SECURITY row 51).
      AccessToken: (ctx: OidcCtx, token: { jkt?: string }) =>
        clampToGrant(ctx, token.jkt ? o.dpopAccessTokenTtlSeconds : o.accessTokenTtlSeconds),
      AuthorizationCode: o.codeTtlSeconds,
      IdToken: o.idTokenTtlSeconds,
      RefreshToken: (ctx: OidcCtx, token: { totalLifetime(): number }) =>
        clampToGrant(
          ctx,
          Math.max(
            1,
            Math.min(o.refreshTokenTtlSeconds, o.refreshTokenAbsoluteSeconds - token.totalLifetime()),
          ),
        ),
      Interaction: o.loginTransactionSeconds + o.consentTransactionSeconds,
      Session: o.sessionTtlSeconds,
      Grant: o.consentTtlSeconds,
    },
    // Refresh tokens are opt-in per client (grant_types contains refresh_token) and rotate on every use.
    issueRefreshToken: async (_ctx: OidcCtx, client: OidcCtx) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    findAccount: findAccount(state, clock),
    loadExistingGrant: loadExistingGrant(state),
    renderError: async (ctx: OidcCtx, out: { error: string; error_description?: string }) => {
      ctx.type = 'html';
      ctx.body = state.errorPage(ctx, out.error, out.error_description ?? '');
    },
    assertJwtClientAuthClaimsAndHeader: assertClientAssertion(
      clientAssertionAudiences(issuer, ROUTES, esignetEndpoints(config)),
      o.clientAssertionMaxLifetimeSeconds,
      o.clockToleranceSeconds,
    ),
    // Client jwks_uri fetches: SSRF guard, timeout, size cap, clamped max-age (SECURITY row 44).
    fetch: createJwksFetcher(o.jwksUriPolicy, clock, state.logger).fetch,
    features: {
      devInteractions: { enabled: false },
      // Signing keys in a PKCS#11 token sign through the module (providerJwks).
      externalSigningSupport: { enabled: true, ack: 'experimental-01' },
      // verified_claims (object or array form) checked by OpenID Connect for Identity Assurance 1.0.
      claimsParameter: { enabled: true, assertClaimsParameter },
      // The nonce secret only because attestClientAuth asks for one (nonces are not required).
      dPoP: { enabled: true, nonceSecret: derivedSecret(config.keys.encryptionSecret, 'dpop-nonce') },
      // draft-ietf-oauth-attestation-based-client-auth at PAR and token (src/oidc/client-attestation.ts).
      attestClientAuth: {
        enabled: true,
        ack: 'draft-12',
        ...providerAttestationHooks(config, clock),
      },
      encryption: { enabled: true },
      jwtUserinfo: { enabled: true },
      introspection: { enabled: true, allowedPolicy: introspectionAllowed },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      pushedAuthorizationRequests: {
        enabled: true,
        requirePushedAuthorizationRequests: o.requirePar || haip,
        allowUnregisteredRedirectUris: false,
      },
      requestObjects: {
        enabled: true,
        requireSignedRequestObject: false,
        assertJwtClaimsAndHeader: assertRequestObject,
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: OidcCtx, form: string) => {
          ctx.body = state.logoutPage(ctx, form);
        },
        postLogoutSuccessSource: async (ctx: OidcCtx) => {
          ctx.body = state.loggedOutPage(ctx);
        },
      },
      richAuthorizationRequests: {
        enabled: true,
        types: { openid_credential: { validate: validateCredentialDetail(state) } },
        authorizationDetailsForGrantSource: (ctx: OidcCtx) => ctx.oidc.grant?.rar ?? [],
        authorizationDetailsForAccessToken: (_ctx: OidcCtx, _token: unknown, source: { rar?: unknown[] }) =>
          withCredentialIdentifiers(source?.rar ?? []),
        authorizationDetailsForIntrospection: (_ctx: OidcCtx, token: { rar?: unknown[] }) => token.rar ?? [],
      },
      resourceIndicators: {
        enabled: true,
        // A client with jwt_access_token_c_nonce (Inji, eSignet-style) gets the issuer as resource unasked.
        defaultResource: async (_ctx: OidcCtx, client: OidcCtx, oneOf?: string) =>
          oneOf ?? (jwtAccessTokens(client) ? issuer : undefined),
        useGrantedResource: async () => true,
        // OpenID4VCI 1.0 §5.1.2: wallets send resource=<credential issuer>; that is the only resource.
        getResourceServerInfo: async (_ctx: OidcCtx, resource: string, client: OidcCtx) => {
          if (resource !== issuer) throw new errors.InvalidTarget();
          return {
            scope: [...credentialScopes, 'openid'].join(' '),
            audience: issuer,
            // RFC 9068 JWTs carrying c_nonce for a client that opted in (src/oidc/token-response.ts).
            accessTokenFormat: jwtAccessTokens(client) ? 'jwt' : 'opaque',
          };
        },
      },
    },
    enabledJWA: {
      clientAuthSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      requestObjectSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      idTokenSigningAlgValues: ['RS256', 'ES256'],
      userinfoSigningAlgValues: ['RS256', 'ES256'],
      idTokenEncryptionAlgValues: ['RSA-OAEP-256', 'ECDH-ES', 'ECDH-ES+A256KW'],
      userinfoEncryptionAlgValues: ['RSA-OAEP-256', 'ECDH-ES', 'ECDH-ES+A256KW'],
      idTokenEncryptionEncValues: ['A128GCM', 'A256GCM', 'A128CBC-HS256'],
      userinfoEncryptionEncValues: ['A128GCM', 'A256GCM', 'A128CBC-HS256'],
      requestObjectEncryptionAlgValues: [],
      requestObjectEncryptionEncValues: [],
      dPoPSigningAlgValues: haip ? ['ES256'] : ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'],
      attestSigningAlgValues: ['ES256'],
    },
    discovery: {
      ui_locales_supported: locales,
      claims_locales_supported: locales,
      // OpenID Connect for Identity Assurance 1.0 (src/oidc/verified-claims.ts).
      ...identityAssuranceMetadata(config.kyc.identityAssurance),
      // OpenID4VCI 1.0 §12.3: the pre-authorized code grant needs no client authentication here.
      'pre-authorized_grant_anonymous_access_supported': true,
    },
  });
  provider.proxy = true;
  // Draft-13 wallets take their first c_nonce from the token response (src/oidc/token-response.ts).
  provider.use(tokenResponseCNonce(state));
  installVerifiedClaimsMask(provider);
  // Handled in front of the provider (src/oidc/pre-authorized.ts); registered so discovery lists it.
  provider.registerGrantType(PRE_AUTHORIZED_GRANT, () => {
    throw new errors.UnsupportedGrantType();
  }, ['pre-authorized_code', 'tx_code']);
  provider.on('server_error', (ctx: OidcCtx, error: Error) => {
    state.logger.error({ err: error, route: ctx?.oidc?.route }, 'oidc-provider server error');
  });
  return provider;
}

/** Whether a client opted into JWT access tokens carrying c_nonce (src/oidc/clients.ts). */
const jwtAccessTokens = (client: OidcCtx): boolean =>
  hasLeniency(client?.metadata?.(), 'jwt_access_token_c_nonce');

/** A token's lifetime capped at what is left of its grant (the consent), when the grant is known. */
function clampToGrant(ctx: OidcCtx, seconds: number): number {
  const remaining = ctx?.oidc?.entities?.Grant?.remainingTTL;
  return typeof remaining === 'number' && remaining > 0 ? Math.max(1, Math.min(seconds, remaining)) : seconds;
}
