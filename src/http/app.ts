import { Router } from '@koa/router';
import Koa from 'koa';
import type { Parts } from '../compose.ts';
import { MethodNotAllowed, NotFound } from '../errors.ts';
import { createWalletLogin } from '../oidc/wallet-login/module.ts';
import { apiDocsPage } from './api-docs.ts';
import { receiveBody } from './body.ts';
import { consoleRoutes } from './console/routes.ts';
import { contextRoutes } from './contexts.ts';
import { errorHandler } from './error-handler.ts';
import { healthRoutes } from './health.ts';
import { assetRoutes, interactionRoutes } from './interaction/routes.ts';
import { observe, securityHeaders } from './middleware.ts';
import { mountProvider } from './oidc/mount.ts';
import { rateLimit } from './rate-limit.ts';
import { routeOnce } from './route-once.ts';
import { shedLoad } from './shed.ts';
import { statusRoutes } from './status.ts';
import { vciRoutes } from './vci/routes.ts';
import { iacaRoutes, keyRoutes } from './well-known.ts';

/**
 * The HTTP layer over the composed parts (src/compose.ts): cross-cutting middleware first
 * (observability, headers, errors, body, load shedding and rate limits when enabled), then oidc-provider's own paths,
 * then one router holding every route and the admin API; 405 for a known path with another method,
 * 404 for whatever matched nothing.
 */
export function createApp(parts: Parts): Koa {
  const { services, credentials, grants, oidc, vci } = parts;
  const { config, logger, metrics } = services;
  const publicUrl = config.resolved.publicUrl;
  const koa = new Koa({ proxy: config.http.trustProxy });
  koa.silent = true;
  koa.use(observe(logger, metrics));
  koa.use(services.audit.scope);
  koa.use(securityHeaders({ https: publicUrl.startsWith('https:') }));
  koa.use(errorHandler());
  koa.use(receiveBody({ limitBytes: config.http.bodyLimitBytes, timeoutMs: config.http.bodyTimeoutMs }));
  // Left out, rather than passed through on every request, when the configuration turns them off.
  if (config.http.maxInFlight > 0) koa.use(shedLoad({ maxInFlight: config.http.maxInFlight, metrics }));
  if (config.rateLimits.enabled) koa.use(rateLimit(services));
  // Before routing and any body parsing: oidc-provider reads the raw request itself.
  koa.use(mountProvider(services, oidc));

  const root = new Router();
  root.use(healthRoutes(services).routes(), keyRoutes(services).routes(), contextRoutes(services).routes());
  root.use(
    vciRoutes({
      services,
      tokens: vci.tokens,
      registry: credentials.configurations,
      issuer: vci.issuer,
      nonces: grants.cNonces,
      offers: grants.offers,
      issuerCa: credentials.issuerCa,
    }).routes(),
    statusRoutes({ status: credentials.status, publicUrl }).routes(),
    iacaRoutes({ issuerCa: credentials.issuerCa, publicUrl }).routes(),
  );
  const walletLogin = createWalletLogin({
    services,
    basePath: oidc.basePath,
    status: credentials.status,
    ledger: vci.ledger,
    configurations: credentials.configurations,
    x5c: (key) => credentials.issuerCa.joseX5c(key),
  });
  root.use(interactionRoutes(oidc.interactions, walletLogin).routes(), assetRoutes(oidc.basePath).routes());
  root.use(parts.admin.routes());
  root.use(apiDocsPage(Boolean(config.admin.token)).routes());
  root.use(consoleRoutes(parts).routes());

  koa.use(async function unmatched(ctx, next) {
    await next();
    if (ctx.respond === false || ctx.body != null) return;
    if (ctx.status === 404) throw new NotFound(`no resource at ${ctx.path}`);
    if (ctx.status === 405 || ctx.status === 501) {
      // allowedMethods has set the Allow header (RFC 9110 §15.5.6).
      throw new MethodNotAllowed(`${ctx.method} is not allowed on this resource`);
    }
  });
  koa.use(routeOnce(root));
  koa.use(root.allowedMethods());
  return koa;
}
