import { Router } from '@koa/router';
import Koa from 'koa';
import { adminRouter } from './admin/routes.ts';
import { MethodNotAllowed, NotFound } from './errors.ts';
import { errorHandler } from './http/error-handler.ts';
import { healthRoutes } from './http/health.ts';
import { observe, securityHeaders } from './http/middleware.ts';
import { keyRoutes } from './keys/routes.ts';
import type { Links, Module, ModuleFactory } from './modules.ts';
import type { Services } from './services.ts';

export interface App {
  readonly koa: Koa;
  readonly links: Links;
  /** Releases what the modules hold (timers, providers); the store is closed by its owner. */
  close(): Promise<void>;
}

/** Feature modules, built in this order. Add a module with one line. */
const MODULES: ModuleFactory[] = [];

/**
 * Composes the service: cross-cutting middleware first (observability, headers, errors), then the
 * modules' early middleware (oidc-provider), then one router holding every module's routes, then
 * 405/404 for whatever matched nothing.
 */
export async function createApp(services: Services): Promise<App> {
  const { config, logger, metrics } = services;
  const koa = new Koa({ proxy: config.http.trustProxy });
  koa.silent = true;
  koa.use(observe(logger, metrics));
  koa.use(securityHeaders({ https: config.resolved.publicUrl.startsWith('https:') }));
  koa.use(errorHandler());

  const links: Links = {};
  const modules: Module[] = [];
  for (const build of MODULES) modules.push(await build(services, links));

  const root = new Router();
  const admin = adminRouter(services);
  root.use(healthRoutes(services).routes(), keyRoutes(services).routes());
  for (const module of modules) {
    for (const middleware of module.early ?? []) koa.use(middleware);
    for (const router of module.routes ?? []) root.use(router.routes());
    for (const router of module.adminRoutes ?? []) admin.use(router.routes());
  }
  root.use(admin.routes());

  koa.use(root.routes());
  koa.use(
    root.allowedMethods({
      throw: true,
      methodNotAllowed: () => new MethodNotAllowed('this method is not allowed on this resource'),
      notImplemented: () => new MethodNotAllowed('this method is not supported'),
    }),
  );
  koa.use(async (ctx) => {
    if (ctx.body === undefined && ctx.status === 404) throw new NotFound(`no resource at ${ctx.path}`);
  });
  return {
    koa,
    links,
    close: async () => {
      for (const module of modules.reverse()) await module.close?.();
    },
  };
}
