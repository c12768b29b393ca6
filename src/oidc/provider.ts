import { createHash, hkdfSync } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';
import type { Config } from '../config/defaults.ts';
import type { ManagedKey } from '../keys/spi.ts';
import type { Factor } from '../kyc/spi.ts';
import type { Services } from '../services.ts';
import { PRE_AUTHORIZED_GRANT } from '../vci/pre-authorized.ts';
import { createAdapterClass } from './adapter.ts';
import { type AcrRule, claimsConfig, describeRequest } from './claims.ts';
import { EXTRA_CLIENT_METADATA } from './clients.ts';
import { clientBasedCors } from './cors.ts';
import { validateIssuerState } from './issuer-state.ts';
import { createJwksFetcher } from './jwks-fetch.ts';
import type { OidcState } from './state.ts';

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
} as const;

export function acrTable(config: Config): AcrRule[] {
  return config.oidc.acrFactors.map((e) => ({ acr: e.acr, factors: e.factors as Factor[] }));
}

/**
 * The provider signs with private JWKs exported from the KeyStore's KeyObjects: active keys first
 * (oidc-provider signs with the first key matching the algorithm), then retired keys still
 * published, so tokens signed before a rotation keep verifying. The provider is rebuilt when the
 * set of published keys changes (src/oidc/module.ts).
 */
export function providerJwks(keys: readonly ManagedKey[]): Record<string, unknown>[] {
  const ordered = [...keys].sort((a, b) => Number(b.status === 'active') - Number(a.status === 'active'));
  return ordered.map((key) => ({
    ...(key.privateKey.export({ format: 'jwk' }) as Record<string, unknown>),
    kid: key.kid,
    alg: key.alg,
    use: 'sig',
  }));
}

/** What a provider instance was built from; a change rebuilds it. */
export function providerFingerprint(keys: readonly ManagedKey[], scopes: readonly string[]): string {
  return createHash('sha256')
    .update(JSON.stringify([keys.map((k) => `${k.kid}:${k.status}`), scopes]))
    .digest('base64url');
}

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
    clientAuthMethods: ['private_key_jwt', 'none'],
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
    findAccount: findAccount(state),
    loadExistingGrant: loadExistingGrant(state),
    renderError: async (ctx: OidcCtx, out: { error: string; error_description?: string }) => {
      ctx.type = 'html';
      ctx.body = state.errorPage(ctx, out.error, out.error_description ?? '');
    },
    assertJwtClientAuthClaimsAndHeader: assertClientAssertion(
      issuer,
      o.clientAssertionMaxLifetimeSeconds,
      o.clockToleranceSeconds,
    ),
    // Client jwks_uri fetches: SSRF guard, timeout, size cap, clamped max-age (SECURITY row 44).
    fetch: createJwksFetcher(o.jwksUriPolicy, clock, state.logger).fetch,
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      dPoP: { enabled: true },
      encryption: { enabled: true },
      jwtUserinfo: { enabled: true },
      introspection: { enabled: true, allowedPolicy: introspectionAllowed },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      pushedAuthorizationRequests: {
        enabled: true,
        requirePushedAuthorizationRequests: o.requirePar,
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
        defaultResource: async (_ctx: OidcCtx, _client: unknown, oneOf?: string) => oneOf,
        useGrantedResource: async () => true,
        // OpenID4VCI 1.0 §5.1.2: wallets send resource=<credential issuer>; that is the only resource.
        getResourceServerInfo: async (_ctx: OidcCtx, resource: string) => {
          if (resource !== issuer) throw new errors.InvalidTarget();
          return {
            scope: [...credentialScopes, 'openid'].join(' '),
            audience: issuer,
            accessTokenFormat: 'opaque',
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
      dPoPSigningAlgValues: ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'],
    },
    discovery: {
      ui_locales_supported: locales,
      claims_locales_supported: locales,
      // OpenID4VCI 1.0 §12.3: the pre-authorized code grant needs no client authentication here.
      'pre-authorized_grant_anonymous_access_supported': true,
    },
  });
  provider.proxy = true;
  // Handled in front of the provider (src/oidc/pre-authorized.ts); registered so discovery lists it.
  provider.registerGrantType(PRE_AUTHORIZED_GRANT, () => {
    throw new errors.UnsupportedGrantType();
  }, ['pre-authorized_code', 'tx_code']);
  provider.on('server_error', (ctx: OidcCtx, error: Error) => {
    state.logger.error({ err: error, route: ctx?.oidc?.route }, 'oidc-provider server error');
  });
  return provider;
}

/** A token's lifetime capped at what is left of its grant (the consent), when the grant is known. */
function clampToGrant(ctx: OidcCtx, seconds: number): number {
  const remaining = ctx?.oidc?.entities?.Grant?.remainingTTL;
  return typeof remaining === 'number' && remaining > 0 ? Math.max(1, Math.min(seconds, remaining)) : seconds;
}

function validateExtraMetadata(table: readonly AcrRule[]) {
  const acrs = new Set(table.map((r) => r.acr));
  return (_ctx: OidcCtx, key: string, value: unknown, metadata: Record<string, unknown>) => {
    const fail = (message: string) => {
      throw new errors.InvalidClientMetadata(`${key} ${message}`);
    };
    if (value === undefined) return;
    if (key === 'allowed_claims' || key === 'allowed_acr_values') {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) {
        fail('must be an array of strings');
      }
      if (key === 'allowed_acr_values' && !(value as string[]).every((v) => acrs.has(v))) {
        fail(`must only contain configured ACR values (${[...acrs].join(', ')})`);
      }
    }
    if (key === 'identity_system' && (typeof value !== 'string' || value === ''))
      fail('must be a non-empty string');
    if (key === 'resource_server_audiences') {
      if (!Array.isArray(value) || !value.every(isAbsoluteUrl)) fail('must be an array of absolute URLs');
      // RFC 7662 §2.1: introspection needs an authenticated caller; a public client cannot be one.
      if (metadata.token_endpoint_auth_method === 'none') fail('requires an authenticated client');
    }
    if (key === 'client_names') {
      if (!value || typeof value !== 'object' || Array.isArray(value))
        fail('must be an object of language → name');
      for (const name of Object.values(value as object))
        if (typeof name !== 'string') fail('values must be strings');
    }
  };
}

/**
 * oidc-provider's notion of now, in epoch seconds: it checks `exp` and `nbf` of the JWTs it receives
 * against the real clock (lib/helpers/jwt.js `epochTime`), not our injected one, so a bound on the
 * same JWT's `iat` must use the same clock or the accepted window would be judged by two clocks.
 */
const providerEpochSeconds = (): number => Math.floor(Date.now() / 1000);

/**
 * private_key_jwt hardening beyond oidc-provider's checks (RFC 7523 §3, FAPI 2.0 §5.3.2.1):
 * `aud` must be exactly the issuer identifier as a string (no arrays, no endpoint URLs: audience
 * injection); `iat` and `sub` = client_id are required; `iat` is not in the future and the lifetime
 * `exp - iat` is capped, so the `jti` replay record (kept until `exp`, SECURITY row 9) lives at most
 * clock tolerance + max lifetime. This runs after the signature check and before the replay record.
 */
function assertClientAssertion(issuer: string, maxLifetimeSeconds: number, toleranceSeconds: number) {
  return async (ctx: OidcCtx, claims: Record<string, unknown>, header: Record<string, unknown>) => {
    const fail = (message: string) => {
      throw new errors.InvalidClientAuth(message);
    };
    if (claims.aud !== issuer) fail('audience (aud) must be the issuer identifier, as a single string');
    if (claims.sub !== ctx.oidc.client.clientId) fail('sub must be the client_id');
    if (typeof claims.iat !== 'number') fail('iat must be provided in the client_assertion JWT');
    // RFC 7519 §4.1.6: iat is the instant the JWT was issued, so one dated beyond the clock tolerance
    // claims an issuance that has not happened; RFC 7523 §3 leaves bounding iat to the server
    // (https://www.rfc-editor.org/rfc/rfc7523#section-3). Without this, exp - iat within the cap
    // but both years ahead authenticated, and the jti record was held until then. oidc-provider
    // itself only bounds iat when there is no exp.
    if ((claims.iat as number) > providerEpochSeconds() + toleranceSeconds) {
      fail('iat must not be in the future (beyond the clock tolerance)');
    }
    if (typeof claims.exp !== 'number' || claims.exp - (claims.iat as number) > maxLifetimeSeconds) {
      fail(`client assertion lifetime (exp - iat) must not exceed ${maxLifetimeSeconds} seconds`);
    }
    if (
      header.typ !== undefined &&
      typeof header.typ === 'string' &&
      /^(dpop\+jwt|at\+jwt|logout\+jwt)$/i.test(header.typ)
    ) {
      fail('typ is not acceptable for a client assertion');
    }
  };
}

/** Request objects (RFC 9101): exp and nbf required, at most 60 minutes apart (FAPI 2.0 §5.3.2.1). */
async function assertRequestObject(_ctx: OidcCtx, claims: Record<string, unknown>) {
  for (const claim of ['exp', 'nbf', 'aud']) {
    if (claims[claim] === undefined)
      throw new errors.InvalidRequestObject(`Request Object is missing the '${claim}' claim`);
  }
  const lifetime = (claims.exp as number) - (claims.nbf as number);
  if (!(lifetime > 0) || lifetime > 3600) {
    throw new errors.InvalidRequestObject("Request Object 'exp' claim too far from 'nbf' claim");
  }
}

const isAbsoluteUrl = (value: unknown): boolean => typeof value === 'string' && URL.canParse(value);

/**
 * Who may learn that a token is active. RFC 7662 §2.2 (https://www.rfc-editor.org/rfc/rfc7662#section-2.2):
 * the server "MAY respond differently to different protected resources making the same request",
 * and §4 asks it to keep token scanning from learning anything; RFC 9700 §2.3 restricts access tokens
 * to their audience, so only that audience's resource server needs to learn about them. So `active: true` goes only to the client the token was issued to, or
 * to an authenticated client registered as resource server (`resource_server_audiences`) for one of
 * an access token's audiences; every other caller gets exactly `{"active": false}`.
 */
async function introspectionAllowed(
  _ctx: OidcCtx,
  client: OidcCtx,
  token: { clientId?: string; kind?: string; aud?: string | string[] },
) {
  if (token.clientId !== undefined && token.clientId === client.clientId) return true;
  if (client.clientAuthMethod === 'none' || token.kind === 'RefreshToken') return false;
  const served = client.metadata().resource_server_audiences;
  if (!Array.isArray(served)) return false;
  const audiences = token.aud === undefined ? [] : [token.aud].flat();
  return audiences.some((aud) => served.includes(aud));
}

/** OpenID4VCI 1.0 §5.1.1: `openid_credential` details name a configuration the issuer offers. */
function validateCredentialDetail(state: OidcState) {
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
 * Accounts are the pairwise subjects; their claims are the grant's consented KYC claims. When the
 * identity system can no longer release them (KYC token expired, registry down), the token is
 * refused rather than answered with fewer claims than consented: `invalid_token` at userinfo,
 * `invalid_grant` at the token endpoint.
 */
function findAccount(state: OidcState) {
  return async (ctx: OidcCtx, sub: string, token?: { grantId?: string }) => ({
    accountId: sub,
    async claims() {
      const record = token?.grantId ? await state.grants.get(token.grantId) : undefined;
      if (!record || record.subject !== sub) return { sub };
      try {
        const kyc = await state.grants.claims(record, state.identitySystems);
        return { ...kyc, sub };
      } catch (error) {
        state.logger.error(
          {
            err: { name: (error as Error)?.name, message: (error as Error)?.message },
            system: record.identitySystem,
          },
          'KYC claims could not be released',
        );
        if (ctx?.oidc?.route === 'userinfo')
          throw new errors.InvalidToken('the claims of this grant are no longer available');
        throw new errors.InvalidGrant('the claims of this grant are no longer available');
      }
    },
  });
}

/**
 * Which existing grant an authorization request may reuse. A grant decided in this interaction
 * always; the session's earlier grant for the client (silent SSO, prompt=none) only while the
 * remembered consent is live and the request asks for the same claim set.
 */
function loadExistingGrant(state: OidcState) {
  return async (ctx: OidcCtx) => {
    const { Grant } = ctx.oidc.provider;
    const decided = ctx.oidc.result?.consent?.grantId;
    if (decided) return Grant.find(decided);
    const clientId = ctx.oidc.client.clientId;
    const grantId = ctx.oidc.session.grantIdFor(clientId);
    const subject = ctx.oidc.session.accountId;
    if (!grantId || !subject) return undefined;
    const set = describeRequest(
      ctx.oidc.params,
      ctx.oidc.client.metadata().allowed_claims,
      state.extraClaimsFor(ctx.oidc.params),
    );
    const consent = await state.consents.matching(clientId, subject, set.fingerprint);
    return consent ? Grant.find(grantId) : undefined;
  };
}
