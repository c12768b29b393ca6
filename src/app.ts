import { Router } from '@koa/router';
import Koa from 'koa';
import { adminRouter } from './admin/routes.ts';
import { contextRoutes } from './credentials/jsonld/routes.ts';
import { MethodNotAllowed, NotFound } from './errors.ts';
import { receiveBody } from './http/body.ts';
import { errorHandler } from './http/error-handler.ts';
import { healthRoutes } from './http/health.ts';
import { observe, securityHeaders } from './http/middleware.ts';
import { rateLimit } from './http/rate-limit.ts';
import { shedLoad } from './http/shed.ts';
import { keyRoutes } from './keys/routes.ts';
import { kycModule } from './kyc/module.ts';
import type { Links, Module, ModuleFactory } from './modules.ts';
import { oidcModule } from './oidc/module.ts';
import type { Services } from './services.ts';
import { vciModule } from './vci/module.ts';

export interface App {
  readonly koa: Koa;
  readonly links: Links;
  /** Releases what the modules hold (timers, providers); the store is closed by its owner. */
  close(): Promise<void>;
}

/** Feature modules, built in this order. Add a module with one line. */
const MODULES: ModuleFactory[] = [kycModule, vciModule, oidcModule];

/**
 * Composes the service: cross-cutting middleware first (observability, headers, errors), then the
 * modules' early middleware (oidc-provider), then one router holding every module's routes; 405 for a
 * known path with another method, 404 for whatever matched nothing.
 */
export async function createApp(services: Services): Promise<App> {
  const { config, logger, metrics } = services;
  const koa = new Koa({ proxy: config.http.trustProxy });
  koa.silent = true;
  koa.use(observe(logger, metrics));
  koa.use(services.audit.scope);
  koa.use(securityHeaders({ https: config.resolved.publicUrl.startsWith('https:') }));
  koa.use(errorHandler());
  koa.use(receiveBody({ limitBytes: config.http.bodyLimitBytes, timeoutMs: config.http.bodyTimeoutMs }));
  koa.use(shedLoad({ maxInFlight: config.http.maxInFlight, metrics }));
  koa.use(rateLimit(services));

  const links: Links = {};
  const modules: Module[] = [];
  for (const build of MODULES) modules.push(await build(services, links));

  const root = new Router();
  const admin = adminRouter(services);
  root.use(healthRoutes(services).routes(), keyRoutes(services).routes(), contextRoutes(services).routes());
  for (const module of modules) {
    for (const middleware of module.early ?? []) koa.use(middleware);
    for (const router of module.routes ?? []) root.use(router.routes());
    for (const router of module.adminRoutes ?? []) admin.use(router.routes());
  }
  root.use(admin.routes());

  koa.use(async function unmatched(ctx, next) {
    await next();
    if (ctx.respond === false || ctx.body != null) return;
    if (ctx.status === 404) throw new NotFound(`no resource at ${ctx.path}`);
    if (ctx.status === 405 || ctx.status === 501) {
      // allowedMethods has set the Allow header (RFC 9110 §15.5.6).
      throw new MethodNotAllowed(`${ctx.method} is not allowed on this resource`);
    }
  });
  koa.use(root.routes());
  koa.use(root.allowedMethods());
  // Keys rotated by the CLI or another instance become visible here without a restart.
  const keyReload = setInterval(() => {
    services.keys.reload().catch((error: unknown) => logger.error({ err: error }, 'key reload failed'));
  }, config.keys.reloadIntervalSeconds * 1000);
  keyReload.unref();
  return {
    koa,
    links,
    close: async () => {
      clearInterval(keyReload);
      for (const module of modules.reverse()) await module.close?.();
    },
  };
}
