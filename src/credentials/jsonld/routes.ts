import { Router } from '@koa/router';
import type { Services } from '../../services.ts';
import { listOwnContexts } from './document-loader.ts';

/**
 * Our JSON-LD contexts (contexts/*.jsonld) at the stable URLs credentials reference, so any
 * verifier can dereference every term. Served from memory; they change only with a release.
 */
export function contextRoutes({ config }: Services): Router {
  const router = new Router();
  for (const context of listOwnContexts(config.resolved.publicUrl)) {
    const body = JSON.stringify(context.document);
    router.get(new URL(context.url).pathname, (ctx) => {
      ctx.set('Cache-Control', 'public, max-age=86400');
      ctx.set('Access-Control-Allow-Origin', '*');
      ctx.type = 'application/ld+json';
      ctx.body = body;
    });
  }
  return router;
}
