import type { Context, Middleware, Next } from 'koa';
import { MethodNotAllowed } from '../../errors.ts';
import { checkAssertionParty } from '../../oidc/assertion-party.ts';
import type { Oidc } from '../../oidc/module.ts';
import { ROUTES } from '../../oidc/provider.ts';
import type { Services } from '../../services.ts';
import { noStore } from '../middleware.ts';
import { corsOriginGate } from './cors.ts';
import { type EsignetRoute, esignetRoutes, rewriteJsonAnswer } from './esignet-routes.ts';
import { handleTokenRequest } from './pre-authorized.ts';
import { applyAuthorizationLeniencies, readProviderForm } from './provider-form.ts';

/**
 * oidc-provider mounted in our Koa app: a middleware (before routing and body parsing) recognises
 * the provider's paths under the issuer's path, rewrites the request to the provider's view (path
 * without the prefix, Host and X-Forwarded-Proto from the configured public URL so no URL is ever
 * built from client headers), sets `ctx.respond = false` and hands `req`/`res` to the provider's
 * callback (src/oidc/module.ts builds and rebuilds the provider). eSignet's paths for the same
 * endpoints, when configured, are handed over the same way (src/http/oidc/esignet-routes.ts).
 */
export function mountProvider(services: Services, oidc: Oidc): Middleware {
  const { config } = services;
  const { basePath, state } = oidc;
  const tokenUrl = `${config.resolved.publicUrl}${ROUTES.token}`;
  // oidc-provider's client-based CORS routes (lib/helpers/initialize_app.js); see src/oidc/cors.ts.
  const checkCorsOrigin = corsOriginGate(config.oidc.corsOrigins, [
    ROUTES.token,
    ROUTES.userinfo,
    ROUTES.pushed_authorization_request,
    ROUTES.introspection,
    ROUTES.revocation,
  ]);
  // RFC 8414 §3.1: with a path in the issuer, the well-known suffix goes between host and path.
  const asMetadataPaths = new Set([
    `/.well-known/oauth-authorization-server${basePath}`,
    `${basePath}/.well-known/oauth-authorization-server`,
  ]);
  const view: ProviderView = {
    issuerUrl: new URL(config.resolved.publicUrl),
    trustProxy: config.http.trustProxy,
    callback: oidc.providerCallback,
  };

  // eSignet's paths for the same provider, when configured (src/http/oidc/esignet-routes.ts).
  const esignet = esignetRoutes(config, basePath);

  /** Checks the method, CORS and the client assertion's parties, then hands the request over. */
  const serve = async (ctx: Context, relative: string, allowed: string[], via?: EsignetRoute) => {
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
      const url = via?.url ?? tokenUrl;
      if (await handleTokenRequest(ctx, services, state, oidc.provider, url)) return;
    } else if (
      relative === ROUTES.pushed_authorization_request &&
      ctx.request.type === 'application/x-www-form-urlencoded'
    ) {
      checkAssertionParty(await readProviderForm(ctx));
    }
    if (via?.rewrite) rewriteJsonAnswer(ctx.res, via.rewrite);
    // Per-client leniencies on the authorization request (Inji Wallet: src/oidc/leniencies.ts).
    await applyAuthorizationLeniencies(ctx, relative, state.clients);
    return handOff(ctx, relative, view, via?.providerMount ?? basePath);
  };

  return async function mountProvider(ctx: Context, next: Next): Promise<void> {
    const path = ctx.path;
    if (asMetadataPaths.has(path) && ctx.method === 'GET')
      return handOff(ctx, '/.well-known/openid-configuration', view, basePath);
    const via = esignet.get(path);
    if (via) return serve(ctx, via.route, allowedMethods(via.route) ?? [], via);
    if (basePath && !path.startsWith(`${basePath}/`)) return next();
    const relative = path.slice(basePath.length);
    const allowed = allowedMethods(relative);
    if (!allowed) return next();
    return serve(ctx, relative, allowed);
  };
}

// The provider's routes and methods (lib/helpers/initialize_app.js); anything else is ours to
// answer (404/405 as JSON errors), never the provider's plain-text "Not Found".
const GET = ['GET', 'HEAD'];
const PROVIDER_METHODS = new Map<string, string[]>([
  [ROUTES.authorization, GET],
  [ROUTES.userinfo, [...GET, 'POST', 'OPTIONS']],
  [ROUTES.token, ['POST', 'OPTIONS']],
  [ROUTES.introspection, ['POST']],
  [ROUTES.revocation, ['POST']],
  [ROUTES.pushed_authorization_request, ['POST']],
  [ROUTES.challenge, ['POST']],
  [ROUTES.jwks, [...GET, 'OPTIONS']],
  ['/.well-known/openid-configuration', [...GET, 'OPTIONS']],
  [ROUTES.end_session, GET],
  [`${ROUTES.end_session}/confirm`, ['POST']],
  [`${ROUTES.end_session}/success`, GET],
]);
const RESUME = new RegExp(`^${ROUTES.authorization}/[A-Za-z0-9_-]{1,64}$`);

/** The methods the provider answers on `relative` (a path under the issuer's); undefined: not its path. */
const allowedMethods = (relative: string): string[] | undefined =>
  PROVIDER_METHODS.get(relative) ?? (RESUME.test(relative) ? GET : undefined);

/** Where and how the provider sees requests. */
interface ProviderView {
  readonly issuerUrl: URL;
  readonly trustProxy: boolean;
  readonly callback: Oidc['providerCallback'];
}

/** Rewrites the request to the provider's view and lets oidc-provider answer it (`ctx.respond = false`). */
async function handOff(ctx: Context, relative: string, view: ProviderView, mount: string): Promise<void> {
  const { issuerUrl } = view;
  const req = ctx.req as typeof ctx.req & { originalUrl?: string };
  const search = ctx.querystring ? `?${ctx.querystring}` : '';
  // oidc-provider's urlFor takes the mount path from originalUrl (lib/helpers/oidc_context.js).
  req.originalUrl = `${mount}${relative}${search}`;
  req.url = `${relative}${search}`;
  req.headers.host = issuerUrl.host;
  req.headers['x-forwarded-proto'] = issuerUrl.protocol.slice(0, -1);
  delete req.headers['x-forwarded-host'];
  delete req.headers.forwarded;
  if (!view.trustProxy) delete req.headers['x-forwarded-for'];
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
  await (await view.callback())(ctx.req, ctx.res);
}
