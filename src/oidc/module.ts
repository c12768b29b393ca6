import type { Context, Middleware, Next } from 'koa';
import { errors } from 'oidc-provider';
import { MethodNotAllowed } from '../errors.ts';
import { noStore } from '../http/middleware.ts';
import { corsOriginGate } from '../http/oidc/cors.ts';
import { handleTokenRequest } from '../http/oidc/pre-authorized.ts';
import { readProviderForm } from '../http/oidc/provider-form.ts';
import type { IdentitySystemRegistry } from '../kyc/spi.ts';
import type { Services } from '../services.ts';
import type { IssuerStateResolver } from '../vci/offers.ts';
import { checkAssertionParty } from './assertion-party.ts';
import { registerAuditEvents } from './audit-events.ts';
import type {
  CNonceIssuer,
  CredentialConfigurationsLink,
  PreAuthorizedCodeRedeemer,
  TokenVerifier,
} from './bridge.ts';
import { ClientRegistry } from './clients.ts';
import { Consents } from './consents.ts';
import { seedDemoRelyingParty } from './demo.ts';
import { GrantRecords } from './grant-records.ts';
import type { InteractionDeps } from './interaction/deps.ts';
import { pickLocale, textsFor } from './interaction/i18n.ts';
import { errorPage, loggedOutPage, logoutPage, type PageFrame } from './interaction/pages.ts';
import { LoginTransactions } from './interaction/transactions.ts';
import { requestedConfigurationIds } from './issuer-state.ts';
import { createJwksFetcher } from './jwks-fetch.ts';
import { buildProvider, type OidcProvider, providerFingerprint, ROUTES } from './provider.ts';
import type { OidcState } from './state.ts';
import { createTokenVerifier } from './token-verifier.ts';

/** What the provider needs from the parts built before it. */
export interface OidcDeps {
  readonly identitySystems: IdentitySystemRegistry;
  /** The shared grants (src/grants.ts): what offers made, and the credential configurations. */
  readonly grants: {
    readonly preAuthorizedCodes: PreAuthorizedCodeRedeemer;
    readonly issuerStates: IssuerStateResolver;
    readonly cNonces: CNonceIssuer;
    readonly credentialConfigurations: CredentialConfigurationsLink;
  };
}

/** What the OpenID Provider offers the credential issuer, the admin API and the HTTP layer. */
export interface Oidc {
  readonly basePath: string;
  /** Verifies access tokens at the credential, deferred and notification endpoints. */
  readonly tokens: TokenVerifier;
  /** Clients, consents and grant records (the admin API reads and changes them). */
  readonly state: OidcState;
  /** Hands the provider's own paths to oidc-provider; runs before routing and body parsing. */
  readonly mountProvider: Middleware;
  /** What the login and consent pages and API are built from. */
  readonly interactions: InteractionDeps;
  /** Revokes every token of a grant and the grant itself (consent withdrawn). */
  revokeGrant(grantId: string): Promise<void>;
  /** Client metadata as oidc-provider validates it, plus the jwks_uri address policy. */
  validateClient(metadata: Record<string, unknown>): Promise<void>;
}

/**
 * The OpenID Provider part: oidc-provider mounted in our Koa app, the login/consent state, the
 * TokenVerifier for the credential endpoint and the pre-authorized code grant.
 *
 * Mounting: `mountProvider`, a middleware (before routing and body parsing) recognises the provider's
 * paths under the issuer's path, rewrites the request to the provider's view (path without the
 * prefix, Host and X-Forwarded-Proto from the configured public URL so no URL is ever built from
 * client headers), sets `ctx.respond = false` and hands `req`/`res` to `provider.callback()`.
 *
 * Keys: the provider is built lazily on the first request and rebuilt whenever the published OIDC
 * keys change (rotation by the admin API, the CLI or another instance after `keys.reload()`), or
 * when the credential scopes change. All provider state lives in the store, so a rebuild loses
 * nothing; requests already running finish on the previous instance.
 */
export async function createOidc(services: Services, deps: OidcDeps): Promise<Oidc> {
  const { config, store, clock, keys, logger } = services;
  const { credentialConfigurations } = deps.grants;
  const issuer = config.resolved.publicUrl;
  const issuerUrl = new URL(issuer);
  const basePath = issuerUrl.pathname.replace(/\/+$/, '');

  const frameFor = (ctx: { oidc?: { params?: Record<string, unknown> } }, title: string): PageFrame => {
    const locale = pickLocale(ctx.oidc?.params?.ui_locales, config.oidc.uiLocales);
    return { locale, texts: textsFor(locale), basePath, title };
  };

  const state: OidcState = {
    basePath,
    identitySystems: deps.identitySystems,
    credentialConfigurations,
    issuerStates: deps.grants.issuerStates,
    preAuthorizedCodes: deps.grants.preAuthorizedCodes,
    cNonces: deps.grants.cNonces,
    logger: logger.child({ module: 'oidc' }),
    clients: new ClientRegistry(store, clock),
    consents: new Consents(store, clock),
    grants: new GrantRecords(store, clock, config.keys.encryptionSecret),
    extraClaimsFor(params) {
      return requestedConfigurationIds(params, credentialConfigurations).flatMap((id) =>
        credentialConfigurations.has(id) ? [...credentialConfigurations.claimsFor(id)] : [],
      );
    },
    errorPage: (ctx, error, description) => {
      const frame = frameFor(ctx, textsFor('en').errorTitle);
      return errorPage(frame, description || error, error);
    },
    logoutPage: (ctx, form) => logoutPage(frameFor(ctx, textsFor('en').logoutTitle), form),
    loggedOutPage: (ctx) => loggedOutPage(frameFor(ctx, textsFor('en').logoutTitle)),
  };

  type Callback = (req: unknown, res: unknown) => Promise<void>;
  let current: { provider: OidcProvider; fingerprint: string; callback: Callback } | undefined;
  const provider = async (): Promise<OidcProvider> => {
    const scopes = [...credentialConfigurations.scopes().keys()].sort();
    const fingerprint = providerFingerprint(keys.published('oidc'), scopes);
    if (current?.fingerprint !== fingerprint) {
      const built = buildProvider(services, state, scopes);
      registerAuditEvents(built, services.audit, state);
      current = { provider: built, fingerprint, callback: built.callback() };
      if (current) state.logger.info({ scopes: scopes.length }, 'OpenID Provider (re)built');
    }
    return current.provider;
  };
  const callback = async () => {
    await provider();
    return current!.callback;
  };

  const tokenUrl = `${issuer}${ROUTES.token}`;
  // oidc-provider's client-based CORS routes (lib/helpers/initialize_app.js); see src/oidc/cors.ts.
  const checkCorsOrigin = corsOriginGate(config.oidc.corsOrigins, [
    ROUTES.token,
    ROUTES.userinfo,
    ROUTES.pushed_authorization_request,
    ROUTES.introspection,
    ROUTES.revocation,
  ]);
  // The provider's routes and methods (lib/helpers/initialize_app.js); anything else is ours to
  // answer (404/405 as JSON errors), never the provider's plain-text "Not Found".
  const GET = ['GET', 'HEAD'];
  const methods = new Map<string, string[]>([
    [ROUTES.authorization, GET],
    [ROUTES.userinfo, [...GET, 'POST', 'OPTIONS']],
    [ROUTES.token, ['POST', 'OPTIONS']],
    [ROUTES.introspection, ['POST']],
    [ROUTES.revocation, ['POST']],
    [ROUTES.pushed_authorization_request, ['POST']],
    [ROUTES.jwks, [...GET, 'OPTIONS']],
    ['/.well-known/openid-configuration', [...GET, 'OPTIONS']],
    [ROUTES.end_session, GET],
    [`${ROUTES.end_session}/confirm`, ['POST']],
    [`${ROUTES.end_session}/success`, GET],
  ]);
  const resume = new RegExp(`^${ROUTES.authorization}/[A-Za-z0-9_-]{1,64}$`);
  const allowedMethods = (relative: string) =>
    methods.get(relative) ?? (resume.test(relative) ? GET : undefined);
  // RFC 8414 §3.1: with a path in the issuer, the well-known suffix goes between host and path.
  const asMetadataPaths = new Set([
    `/.well-known/oauth-authorization-server${basePath}`,
    `${basePath}/.well-known/oauth-authorization-server`,
  ]);

  async function handOff(ctx: Context, relative: string): Promise<void> {
    const req = ctx.req as typeof ctx.req & { originalUrl?: string };
    const search = ctx.querystring ? `?${ctx.querystring}` : '';
    req.originalUrl = `${basePath}${relative}${search}`;
    req.url = `${relative}${search}`;
    req.headers.host = issuerUrl.host;
    req.headers['x-forwarded-proto'] = issuerUrl.protocol.slice(0, -1);
    delete req.headers['x-forwarded-host'];
    delete req.headers.forwarded;
    if (!config.http.trustProxy) delete req.headers['x-forwarded-for'];
    // The provider's own pages: form_post (its script gets a hash added to script-src) and logout.
    ctx.set(
      'Content-Security-Policy',
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    );
    // RFC 6749 §5.1 / RFC 6750 §5.3: token-bearing responses are never cached (Pragma for HTTP/1.0 caches).
    if (
      relative.startsWith(ROUTES.token) ||
      relative === ROUTES.userinfo ||
      relative === ROUTES.pushed_authorization_request
    ) {
      noStore(ctx);
    }
    ctx.state.route = `oidc ${relative.startsWith(ROUTES.authorization) ? ROUTES.authorization : relative}`;
    ctx.respond = false;
    await (await callback())(ctx.req, ctx.res);
  }

  async function mountProvider(ctx: Context, next: Next): Promise<void> {
    const path = ctx.path;
    if (asMetadataPaths.has(path) && ctx.method === 'GET')
      return handOff(ctx, '/.well-known/openid-configuration');
    if (basePath && !path.startsWith(`${basePath}/`)) return next();
    const relative = path.slice(basePath.length);
    const allowed = allowedMethods(relative);
    if (!allowed) return next();
    // A CORS preflight is the provider's only when it is one (RFC 9110 OPTIONS otherwise ours).
    const preflight = ctx.method === 'OPTIONS' && !!ctx.get('Access-Control-Request-Method');
    if (!allowed.includes(ctx.method) || (ctx.method === 'OPTIONS' && !preflight)) {
      throw new MethodNotAllowed('this method is not allowed on this resource', {
        headers: { Allow: allowed.filter((m) => m !== 'OPTIONS').join(', ') },
      });
    }
    checkCorsOrigin(ctx, relative);
    if (relative === ROUTES.token) {
      ctx.state.route = `oidc ${ROUTES.token}`;
      if (await handleTokenRequest(ctx, services, state, provider, tokenUrl)) return;
    } else if (
      relative === ROUTES.pushed_authorization_request &&
      ctx.request.type === 'application/x-www-form-urlencoded'
    ) {
      checkAssertionParty(await readProviderForm(ctx));
    }
    return handOff(ctx, relative);
  }

  const transactions = new LoginTransactions(
    store,
    clock,
    config.keys.encryptionSecret,
    config.oidc.loginTransactionSeconds,
    config.oidc.consentTransactionSeconds,
  );

  const tokens = createTokenVerifier({ provider, state, issuer, clock, store });

  async function revokeGrant(grantId: string): Promise<void> {
    const p = await provider();
    await Promise.all([
      p.AccessToken.revokeByGrantId(grantId),
      p.RefreshToken.revokeByGrantId(grantId),
      p.AuthorizationCode.revokeByGrantId(grantId),
      p.Grant.adapter.destroy(grantId),
      state.grants.delete(grantId),
    ]);
  }

  // SECURITY row 44: a jwks_uri on a private or special-use address is refused at registration too.
  const jwksFetcher = createJwksFetcher(config.oidc.jwksUriPolicy, clock, state.logger);
  async function checkJwksUri(uri: unknown): Promise<void> {
    try {
      await jwksFetcher.checkUri(uri);
    } catch (error) {
      throw new errors.InvalidClientMetadata((error as Error).message);
    }
  }

  if (config.resolved.demo) await seedDemoRelyingParty(services, state.clients);

  return {
    basePath,
    tokens,
    state,
    mountProvider,
    interactions: { services, state, transactions, provider },
    revokeGrant,
    async validateClient(metadata) {
      const p = await provider();
      await p.Client.validate(metadata);
      await checkJwksUri(metadata.jwks_uri);
    },
  };
}
