import { Router } from '@koa/router';
import type { Context } from 'koa';
import type { Services } from '../services.ts';
import { credentialJwks, didDocument, jwtVcIssuerMetadata, keyDocumentPaths } from './documents.ts';

/**
 * The verifier-facing key documents, at the paths the public URL implies (see `keyDocumentPaths`):
 * the did:web document, the SD-JWT VC issuer metadata and the credential JWKS. They are public and
 * change only on rotation, so they are cacheable for a few minutes and readable cross-origin
 * (browser-based verifiers and wallets fetch them). Computed per request: a few encodings of the
 * in-memory published keys.
 */
export function keyRoutes({ config, keys }: Services): Router {
  const publicUrl = config.resolved.publicUrl;
  const paths = keyDocumentPaths(publicUrl);
  const router = new Router();

  router.get(paths.didDocument, (ctx) => {
    publicDocument(ctx, 'application/did+json');
    ctx.body = didDocument(keys.published('credential'), publicUrl);
  });
  router.get(paths.jwtVcIssuer, (ctx) => {
    publicDocument(ctx, 'application/json');
    ctx.body = jwtVcIssuerMetadata(publicUrl, keys);
  });
  router.get(paths.credentialJwks, (ctx) => {
    publicDocument(ctx, 'application/jwk-set+json');
    ctx.body = credentialJwks(keys);
  });
  return router;
}

function publicDocument(ctx: Context, type: string): void {
  ctx.set('Cache-Control', 'public, max-age=300');
  ctx.set('Access-Control-Allow-Origin', '*');
  ctx.type = type;
}
