import { Router } from '@koa/router';
import type { Services } from '../services.ts';
import { noStore } from './middleware.ts';

/** Liveness (the process answers), readiness (the store answers) and Prometheus metrics. */
export function healthRoutes({ store, metrics }: Services): Router {
  const router = new Router();
  router.get('/health/live', (ctx) => {
    noStore(ctx);
    ctx.body = { status: 'ok' };
  });
  router.get('/health/ready', async (ctx) => {
    noStore(ctx);
    try {
      await store.ping();
      ctx.body = { status: 'ok', store: store.kind };
    } catch {
      metrics.storeErrors.inc({ kind: 'unavailable' });
      ctx.status = 503;
      ctx.set('Retry-After', '5');
      ctx.body = { status: 'unavailable', store: store.kind };
    }
  });
  router.get('/metrics', async (ctx) => {
    noStore(ctx);
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  return router;
}
