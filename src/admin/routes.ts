import { Router } from '@koa/router';
import { InvalidRequest } from '../errors.ts';
import type { Services } from '../services.ts';
import { auditRoutes } from './audit.ts';
import { requireAdmin } from './auth.ts';

/**
 * The admin API root. Every router mounted under it is behind the admin bearer token. Modules add
 * their own admin routers (clients, identities, credential configurations, offers, status) in
 * src/app.ts through `admin.use(...)`.
 */
export function adminRouter(services: Services): Router {
  const router = new Router({ prefix: '/admin' });
  router.use(requireAdmin(services.config.admin.token));
  router.get('/', (ctx) => {
    ctx.body = {
      service: 'issuer',
      publicUrl: services.config.resolved.publicUrl,
      store: services.store.kind,
    };
  });
  router.get('/keys', (ctx) => {
    ctx.body = {
      keys: (['credential', 'oidc'] as const).flatMap((purpose) =>
        services.keys.published(purpose).map((key) => ({
          kid: key.kid,
          purpose: key.purpose,
          alg: key.alg,
          status: key.status,
          createdAt: new Date(key.createdAt).toISOString(),
          publishUntil: key.publishUntil ? new Date(key.publishUntil).toISOString() : null,
        })),
      ),
    };
  });
  router.post('/keys/rotate', async (ctx) => {
    const purpose = ctx.query.purpose ?? 'credential';
    if (purpose !== 'credential' && purpose !== 'oidc') {
      throw new InvalidRequest('purpose must be "credential" or "oidc"');
    }
    const rotated = await services.keys.rotate(purpose);
    ctx.status = 201;
    ctx.body = { rotated: rotated.map((key) => ({ kid: key.kid, purpose: key.purpose, alg: key.alg })) };
  });
  router.use(auditRoutes(services.audit).routes());
  return router;
}
