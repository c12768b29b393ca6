import type { Router } from '@koa/router';
import { NotFound } from '../../errors.ts';
import { configurationForVct, typeMetadata } from '../../vci/type-metadata.ts';
import { publicCacheable } from '../middleware.ts';
import type { VciRouteDeps } from './deps.ts';

/**
 * `GET <publicUrl>/vct/<name>`: the SD-JWT VC Type Metadata of the dc+sd-jwt configuration whose
 * `vct` is that URL (draft-ietf-oauth-sd-jwt-vc §6.3.1: the response is the JSON document). The
 * shipped configurations name their types `{{publicUrl}}/vct/<definition>`; a `vct` elsewhere is
 * not served here. Public and cacheable, like the issuer metadata.
 */
export function typeMetadataRoutes(router: Router, deps: VciRouteDeps, basePath: string): void {
  const origin = new URL(deps.services.config.resolved.publicUrl).origin;
  router.get(`${basePath}/vct/:name`, function serveTypeMetadata(ctx) {
    const config = configurationForVct(deps.registry.list(), `${origin}${ctx.path}`);
    if (!config) throw new NotFound(`no credential type at ${ctx.path}`);
    const { body, integrity } = typeMetadata(config);
    publicCacheable(ctx, 300);
    ctx.type = 'application/json';
    // The bytes an integrity value was computed over (§6.5), also as a validator for caches.
    ctx.set('ETag', `"${integrity}"`);
    ctx.body = body;
  });
}
