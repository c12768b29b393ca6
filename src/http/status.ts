import { Router } from '@koa/router';
import type { Context } from 'koa';
import type { ListKind } from '../credentials/status/list-record.ts';
import type { StatusService } from '../credentials/status/service.ts';
import { NotFound } from '../errors.ts';
import { publicCacheable } from './middleware.ts';
import { pathOf } from './well-known.ts';

/**
 * Public status list endpoints (the HTTP side of `credentials/status`):
 * - `GET /status/bitstring/:listId`: BitstringStatusListCredential (ldp_vc JSON or `application/vc+jwt`);
 * - `GET /status/token/:listId`: Token Status List JWT (`application/statuslist+jwt`).
 * One list serves many credentials, so responses are public and cacheable (SECURITY.md row 35); they
 * carry an ETag and honour If-None-Match. Status fetches are not logged per verifier.
 */
export function statusRoutes(services: { status: StatusService; publicUrl?: string }): Router {
  const router = new Router();
  // List URLs are `<publicUrl>/status/...`: a public URL with a path serves them under that path.
  const basePath = pathOf(services.publicUrl);
  const serveList = (kind: ListKind) =>
    async function serveStatusList(ctx: Context): Promise<void> {
      const served = await services.status.serve(kind, String(ctx.params['listId'] ?? ''));
      if (!served) throw new NotFound('unknown status list');
      publicCacheable(ctx, served.maxAgeSeconds);
      ctx.set('ETag', served.etag);
      ctx.set('Last-Modified', served.lastModified.toUTCString());
      if (ctx.get('If-None-Match') === served.etag) {
        ctx.status = 304;
        return;
      }
      ctx.type = served.contentType;
      ctx.body = typeof served.body === 'string' ? served.body : JSON.stringify(served.body);
    };
  router.get(`${basePath}/status/bitstring/:listId`, serveList('bitstring'));
  router.get(`${basePath}/status/token/:listId`, serveList('token'));
  return router;
}
