import { Router } from '@koa/router';
import { listOwnContexts } from '../credentials/jsonld/document-loader.ts';
import type { Services } from '../services.ts';
import { publicCacheable } from './middleware.ts';

/**
 * Our JSON-LD contexts (contexts/*.jsonld) at the stable URLs credentials reference, so any
 * verifier can dereference every term. Served from memory; they change only with a release.
 */
export function contextRoutes({ config }: Services): Router {
  const router = new Router();
  for (const context of listOwnContexts(config.resolved.publicUrl)) {
    const body = JSON.stringify(context.document);
    router.get(new URL(context.url).pathname, (ctx) => {
      publicCacheable(ctx, 86400);
      ctx.type = 'application/ld+json';
      ctx.body = body;
    });
  }
  return router;
}
