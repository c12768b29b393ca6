import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from '@koa/router';
import type { Context, Next } from 'koa';
import { Unauthorized } from '../errors.ts';
import type { Services } from '../services.ts';
import { StoreDamaged } from '../store/spi.ts';
import { noStore } from './middleware.ts';

/** Liveness (the process answers), readiness (the store answers) and Prometheus metrics. */
export function healthRoutes({ config, store, metrics, logger }: Services): Router {
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
    } catch (error) {
      metrics.storeErrors.inc({ kind: 'unavailable' });
      ctx.status = 503;
      ctx.set('Retry-After', '5');
      if (error instanceof StoreDamaged) {
        // The operator needs to act (restore from a backup): say so here and, with the file's name, in the log.
        logger.error({ err: { name: error.name, message: error.message } }, 'readiness: store damaged');
        ctx.body = { status: 'damaged', store: store.kind, error: 'the database file is damaged' };
        return;
      }
      ctx.body = { status: 'unavailable', store: store.kind };
    }
  });
  router.get('/metrics', requireMetricsToken(config.metrics.bearerToken), async (ctx) => {
    noStore(ctx);
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  return router;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * `metrics.bearerToken`: when set, /metrics wants `Authorization: Bearer <token>` (RFC 6750 §2.1),
 * compared in constant time over SHA-256 digests; otherwise 401 with `WWW-Authenticate` (§3).
 * When empty, /metrics stays open.
 */
function requireMetricsToken(token: string) {
  const expected = token ? digest(token) : undefined;
  return async function metricsAuth(ctx: Context, next: Next): Promise<void> {
    if (expected) {
      const [scheme, presented] = ctx.get('Authorization').split(' ');
      if (scheme?.toLowerCase() !== 'bearer' || !presented || !timingSafeEqual(digest(presented), expected)) {
        throw new Unauthorized('a valid metrics bearer token is required', {
          headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' },
        });
      }
    }
    await next();
  };
}
